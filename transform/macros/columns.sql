{#- Tolerance for columns that older tap versions (or other targets) do not write. -#}

{#- `relation.column` when the relation has that column, else `fallback` (SQL). Used for
    columns added by later tap versions (account_id, blocked_by) and for the targets'
    own metadata columns (_sdc_deleted_at exists only with target-postgres). -#}
{% macro column_or(relation, column, fallback='null', alias=none) -%}
  {%- set qualifier = alias if alias else relation -%}
  {%- if execute and fivetran_meta.has_column(relation, column) -%}
    {{ qualifier }}.{{ adapter.quote(column) }}
  {%- else -%}
    {{ fallback }}
  {%- endif -%}
{%- endmacro %}

{% macro has_column(relation, column) -%}
  {%- if not execute -%}{{ return(false) }}{%- endif -%}
  {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
  {{ return(column | lower in names) }}
{%- endmacro %}

{#- A where-clause condition keeping rows the target did not flag deleted. -#}
{% macro not_deleted(relation, alias) -%}
  {%- if execute and fivetran_meta.has_column(relation, '_sdc_deleted_at') -%}
    {{ alias }}._sdc_deleted_at is null
  {%- else -%}
    true
  {%- endif -%}
{%- endmacro %}
