{#- Cross-database helpers. The models parse no JSON (the tap writes scalar columns and
    flat tables for everything they read) and use dbt's cross-database macros, so they
    run wherever dbt does. -#}

{#- Seconds from `start` to `end` (timestamps). -#}
{% macro seconds_between(start, end) -%}
  {{ fivetran_meta.datediff(start, end, 'second') }}
{%- endmacro %}

{#- Hours from `start` to `end` (timestamps), fractional, as a double: `/ 3600.0` would
    be DECIMAL arithmetic on Spark/Databricks (rounded to 6 decimals). -#}
{% macro hours_between(start, end) -%}
  (cast({{ fivetran_meta.datediff(start, end, 'second') }} as {{ fivetran_meta.type_double() }}) / 3600)
{%- endmacro %}

{#- dbt.datediff, with one meaning everywhere: the number of `datepart` boundaries crossed
    from `start` to `end` (what Snowflake, BigQuery, Redshift, PostgreSQL's dbt macro and
    DuckDB count). dbt-spark's hour and minute round the elapsed time up instead (59 s
    across no minute boundary is 1 minute there), so Spark and Databricks count
    boundaries of the UTC epoch here. -#}
{#- (Dispatched as 'boundaries_crossed', not 'datediff': when this package is the root
    project, dbt looks for its own `default__datediff` there first, and one of ours calling
    dbt.datediff would call itself. The same for 'timestamp_add' below.) -#}
{% macro datediff(start, end, datepart) -%}
  {{ return(adapter.dispatch('boundaries_crossed', 'fivetran_meta')(start, end, datepart)) }}
{%- endmacro %}

{% macro default__boundaries_crossed(start, end, datepart) -%}
  {{ return(dbt.datediff(start, end, datepart)) }}
{%- endmacro %}

{% macro spark__boundaries_crossed(start, end, datepart) -%}
  {%- set seconds = {'hour': 3600, 'minute': 60}.get(datepart) -%}
  {%- if seconds -%}
    (floor(to_unix_timestamp({{ end }}) / {{ seconds }}) - floor(to_unix_timestamp({{ start }}) / {{ seconds }}))
  {%- else -%}
    {{ return(dbt.datediff(start, end, datepart)) }}
  {%- endif -%}
{%- endmacro %}

{#- A double-precision float. dbt.type_float() is `float`, which DuckDB and Spark (so
    Databricks) read as a 4-byte REAL (7 digits: durations lose their milliseconds);
    elsewhere it is 8 bytes. -#}
{% macro type_double() -%}
  {{ return(adapter.dispatch('type_double', 'fivetran_meta')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
  {{ return(dbt.type_float()) }}
{%- endmacro %}

{% macro duckdb__type_double() -%}
  {{ return('double') }}
{%- endmacro %}

{% macro spark__type_double() -%}
  {{ return('double') }}
{%- endmacro %}

{#- dbt.dateadd, keeping the type of a timestamp. On BigQuery dbt's returns a DATETIME,
    which BigQuery will not compare with the TIMESTAMP columns target-bigquery lands (no
    implicit coercion between the two): timestamp_add keeps a TIMESTAMP there. -#}
{% macro dateadd(datepart, interval, from_date_or_timestamp) -%}
  {{ return(adapter.dispatch('timestamp_add', 'fivetran_meta')(datepart, interval, from_date_or_timestamp)) }}
{%- endmacro %}

{% macro default__timestamp_add(datepart, interval, from_date_or_timestamp) -%}
  {{ return(dbt.dateadd(datepart, interval, from_date_or_timestamp)) }}
{%- endmacro %}

{% macro bigquery__timestamp_add(datepart, interval, from_date_or_timestamp) -%}
  timestamp_add(cast({{ from_date_or_timestamp }} as timestamp), interval {{ interval }} {{ datepart }})
{%- endmacro %}
