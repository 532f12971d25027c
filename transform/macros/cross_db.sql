{#- Cross-database helpers (PostgreSQL via target-postgres, DuckDB via target-duckdb).
    target-postgres stores JSON objects as jsonb and arrays of strings as text[];
    target-duckdb stores both as JSON. Everything else is written in SQL both accept. -#}

{#- A join that turns each element of a JSON array of objects into a row `alias.item`. -#}
{% macro json_array_rows(expression, alias) -%}
  {{ return(adapter.dispatch('json_array_rows', 'fivetran_meta')(expression, alias)) }}
{%- endmacro %}

{% macro default__json_array_rows(expression, alias) -%}
  cross join lateral jsonb_array_elements(coalesce({{ expression }}, '[]'::jsonb)) as {{ alias }}(item)
{%- endmacro %}

{% macro duckdb__json_array_rows(expression, alias) -%}
  cross join unnest(coalesce(from_json({{ expression }}, '["JSON"]'), [])) as {{ alias }}(item)
{%- endmacro %}

{#- A join that turns each element of an array of strings into a row `alias.value`. -#}
{% macro string_array_rows(expression, alias) -%}
  {{ return(adapter.dispatch('string_array_rows', 'fivetran_meta')(expression, alias)) }}
{%- endmacro %}

{% macro default__string_array_rows(expression, alias) -%}
  cross join lateral unnest(coalesce({{ expression }}, array[]::text[])) as {{ alias }}(value)
{%- endmacro %}

{% macro duckdb__string_array_rows(expression, alias) -%}
  cross join unnest(coalesce(from_json({{ expression }}, '["VARCHAR"]'), [])) as {{ alias }}(value)
{%- endmacro %}

{#- Number of elements of an array of strings (0 when null). -#}
{% macro string_array_length(expression) -%}
  {{ return(adapter.dispatch('string_array_length', 'fivetran_meta')(expression)) }}
{%- endmacro %}

{% macro default__string_array_length(expression) -%}
  coalesce(cardinality({{ expression }}), 0)
{%- endmacro %}

{% macro duckdb__string_array_length(expression) -%}
  coalesce(cast(json_array_length({{ expression }}) as integer), 0)
{%- endmacro %}

{#- The key schema_changes gives a table or column: base64 of the first 6 bytes of the
    MD5 of its source names joined by chr(31) (see tap_fivetran_meta/schema_changes.py). -#}
{% macro object_key(names) -%}
  {%- set joined = names | join(" || chr(31) || ") -%}
  {{ return(adapter.dispatch('object_key', 'fivetran_meta')(joined)) }}
{%- endmacro %}

{% macro default__object_key(joined) -%}
  encode(decode(left(md5({{ joined }}), 12), 'hex'), 'base64')
{%- endmacro %}

{% macro duckdb__object_key(joined) -%}
  to_base64(unhex(left(md5({{ joined }}), 12)))
{%- endmacro %}

{#- Seconds from `start` to `end` (timestamps). -#}
{% macro seconds_between(start, end) -%}
  extract(epoch from ({{ end }} - {{ start }}))
{%- endmacro %}
