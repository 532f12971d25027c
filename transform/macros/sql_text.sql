{#- A value rendered as a SQL string literal (quotes doubled), or a typed null. -#}
{% macro sql_text(value) -%}
  {%- if value is none -%}
    cast(null as {{ dbt.type_string() }})
  {%- else -%}
    '{{ value | string | replace("'", "''") }}'
  {%- endif -%}
{%- endmacro %}
