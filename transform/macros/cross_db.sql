{#- Cross-database helpers. The models parse no JSON (the tap writes scalar columns and
    flat tables for everything they read) and use dbt's cross-database macros, so they
    run wherever dbt does. -#}

{#- Seconds from `start` to `end` (timestamps). -#}
{% macro seconds_between(start, end) -%}
  {{ dbt.datediff(start, end, 'second') }}
{%- endmacro %}

{#- Hours from `start` to `end` (timestamps), fractional. -#}
{% macro hours_between(start, end) -%}
  ({{ dbt.datediff(start, end, 'second') }} / 3600.0)
{%- endmacro %}
