{#- Each source table once per primary key, whatever the loader did. Loaders that append
    instead of upserting (or a table loaded twice) leave several rows per key; every model
    reads the tap's tables through this macro, so nothing is counted twice.

    deduped_source(table_name, key_columns, order_column=none) returns a parenthesised
    query to alias in a FROM clause:
        from {{ fivetran_meta.deduped_source('connections', ['id'], 'observed_at') }} as c
    Of the rows sharing `key_columns`, the one kept has the latest `order_column` (nulls
    last), then the latest loader metadata (_sdc_batched_at, _sdc_sequence, when the
    target writes them). The columns are the table's own, listed explicitly (no helper
    column leaks out). Rows a target flagged deleted (_sdc_deleted_at) are kept: models
    decide what a deleted row means (fivetran_meta.not_deleted). -#}
{% macro deduped_source(table_name, key_columns, order_column=none) -%}
  {%- set relation = source('fivetran_meta', table_name) -%}
  {%- set columns = fivetran_meta.source_columns(relation) -%}
  {%- set order_by = [] -%}
  {%- if order_column -%}{%- do order_by.append(order_column ~ ' desc nulls last') -%}{%- endif -%}
  {%- for meta in ['_sdc_batched_at', '_sdc_sequence'] -%}
    {%- if meta in columns | map('lower') | list -%}{%- do order_by.append(meta ~ ' desc nulls last') -%}{%- endif -%}
  {%- endfor -%}
  {%- if not order_by -%}{%- do order_by.extend(key_columns) -%}{%- endif -%}
  (
    select {% if columns %}{% for name in columns %}{{ adapter.quote(name) }}{{ ", " if not loop.last }}{% endfor %}{% else %}*{% endif %}
    from (
        select
            ftm_source.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ order_by | join(', ') }}
            ) as ftm_copy_number
        from {{ relation }} as ftm_source
    ) as ftm_numbered
    where ftm_copy_number = 1
  )
{%- endmacro %}

{#- The column names of a relation (empty while dbt parses): fivetran_meta.relation_columns. -#}
{% macro source_columns(relation) -%}
  {{ return(fivetran_meta.relation_columns(relation)) }}
{%- endmacro %}
