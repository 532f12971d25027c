{#- The columns of the tap's tables as the loader landed them, and tolerance for the
    loaders' own metadata columns (_sdc_deleted_at exists only with some loaders). -#}

{% macro has_column(relation, column) -%}
  {%- if not execute -%}{{ return(false) }}{%- endif -%}
  {%- set names = fivetran_meta.relation_columns(relation) | map('lower') | list -%}
  {{ return(column | lower in names) }}
{%- endmacro %}

{#- The column names of one of the tap's tables as landed (empty while dbt parses).
    By default the warehouse is asked (adapter.get_columns_in_relation). With var
    fivetran_meta_introspect false nothing is asked: the names are the tap's own
    (fivetran_meta.tap_columns, generated from its catalog) plus var
    fivetran_meta_loader_columns (the loader's metadata columns, e.g. _sdc_batched_at),
    in the case the loader lands them (fivetran_meta.landed_name). That is how the
    package compiles with no connection (`dbt compile` for BigQuery or Redshift
    offline), and it saves one metadata query per source table on any warehouse. -#}
{% macro relation_columns(relation) -%}
  {%- if not execute -%}{{ return([]) }}{%- endif -%}
  {%- if var('fivetran_meta_introspect', true) -%}
    {{ return(adapter.get_columns_in_relation(relation) | map(attribute='name') | list) }}
  {%- endif -%}
  {%- set names = [] -%}
  {%- for name in fivetran_meta.tap_columns(relation.identifier | lower) + var('fivetran_meta_loader_columns', []) -%}
    {%- do names.append(fivetran_meta.landed_name(name)) -%}
  {%- endfor -%}
  {{ return(names) }}
{%- endmacro %}

{#- A column name of the tap as the loader lands it. target-snowflake creates unquoted
    (so upper-case) identifiers; the other loaders keep the tap's lower-case names. -#}
{% macro landed_name(name) -%}
  {{ return(adapter.dispatch('landed_name', 'fivetran_meta')(name)) }}
{%- endmacro %}

{% macro default__landed_name(name) -%}
  {{ return(name) }}
{%- endmacro %}

{% macro snowflake__landed_name(name) -%}
  {{ return(name | upper) }}
{%- endmacro %}

{#- A column of the tap's tables whose name is a reserved word (schema, type), quoted
    in the case the loader landed it: `c.{{ fivetran_meta.quoted_column('schema') }}`. -#}
{% macro quoted_column(name) -%}
  {{ return(adapter.quote(fivetran_meta.landed_name(name))) }}
{%- endmacro %}

{#- A where-clause condition keeping rows the target did not flag deleted. -#}
{% macro not_deleted(relation, alias) -%}
  {%- if execute and fivetran_meta.has_column(relation, '_sdc_deleted_at') -%}
    {{ alias }}._sdc_deleted_at is null
  {%- else -%}
    true
  {%- endif -%}
{%- endmacro %}

{#- A boolean expression: the target flagged this row deleted (_sdc_deleted_at). -#}
{% macro flagged_deleted(relation, alias) -%}
  {%- if execute and fivetran_meta.has_column(relation, '_sdc_deleted_at') -%}
    ({{ alias }}._sdc_deleted_at is not null)
  {%- else -%}
    (1 = 0)
  {%- endif -%}
{%- endmacro %}
