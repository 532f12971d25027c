{#- Build time as a UTC timestamp without time zone, like the tap's timestamps. Freshness,
    stuck syncs and uptime windows are judged against it, not against the tap's run.
    The default is dbt's current_timestamp (UTC on Snowflake, BigQuery, Spark and Redshift)
    cast to dbt's timestamp type; PostgreSQL and DuckDB return the session's zone, so
    they convert explicitly. var fivetran_meta_build_time ('YYYY-MM-DD HH:MM:SS', UTC)
    freezes it: a rebuild as of that time, and the same answers on every warehouse
    (tests/warehouses compare engines with it). -#}
{% macro utc_now() -%}
  {%- set frozen = var('fivetran_meta_build_time', none) -%}
  {%- if frozen -%}
    {{ return("cast('" ~ (frozen | string | replace("'", "")) ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
  {%- endif -%}
  {{ return(adapter.dispatch('utc_now', 'fivetran_meta')()) }}
{%- endmacro %}

{% macro default__utc_now() -%}
  cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro postgres__utc_now() -%}
  cast((now() at time zone 'UTC') as timestamp)
{%- endmacro %}

{#- dbt-redshift falls back to postgres__ macros, and Redshift's now() runs on the
    leader node only: getdate() is the current UTC time. -#}
{% macro redshift__utc_now() -%}
  cast(getdate() as timestamp)
{%- endmacro %}

{% macro duckdb__utc_now() -%}
  cast(timezone('UTC', now()) as timestamp)
{%- endmacro %}

{#- Integers 0 .. 10^digits - 1 as a query with one column `n` (a portable numbers table:
    no generate_series, no VALUES lists). -#}
{% macro integers(digits=4) -%}
  select
    {% for i in range(digits) %}d{{ i }}.n * {{ 10 ** i }}{{ " + " if not loop.last }}{% endfor %} as n
  from
    {%- for i in range(digits) %}
    (
      {%- for v in range(10) %}
      select {{ v }} as n{{ " union all" if not loop.last }}
      {%- endfor %}
    ) as d{{ i }}{{ "" if loop.last else " cross join" }}
    {%- endfor %}
{%- endmacro %}

{#- A percentile of `expression` as an aggregate (continuous interpolation). -#}
{% macro percentile(expression, fraction) -%}
  {{ return(adapter.dispatch('percentile', 'fivetran_meta')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile(expression, fraction) -%}
  percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro bigquery__percentile(expression, fraction) -%}
  approx_quantiles({{ expression }}, 100)[offset({{ (fraction * 100) | int }})]
{%- endmacro %}

{#- A list of health values as a SQL list: ('a', 'b'). -#}
{% macro sql_list(values) -%}
  ({%- for value in values -%}'{{ value }}'{{ ", " if not loop.last }}{%- endfor -%})
{%- endmacro %}
