{#- Tolerance for the targets' own metadata columns (_sdc_deleted_at exists only with
    target-postgres). -#}

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

{#- A boolean expression: the target flagged this row deleted (_sdc_deleted_at). -#}
{% macro flagged_deleted(relation, alias) -%}
  {%- if execute and fivetran_meta.has_column(relation, '_sdc_deleted_at') -%}
    ({{ alias }}._sdc_deleted_at is not null)
  {%- else -%}
    (1 = 0)
  {%- endif -%}
{%- endmacro %}
