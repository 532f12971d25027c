{#- Helpers of the generic test fivetran_meta.fed_by_healthy_connection. -#}

{#- The unique_id of the source node whose relation `relation` is (none while dbt parses); a
    compiler error when it is no source. -#}
{% macro source_unique_id_of(relation) -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- if relation.identifier is not defined -%}
    {{ exceptions.raise_compiler_error(
      "fivetran_meta.fed_by_healthy_connection: set no `where` on this test (it reads no rows of the table it is attached to)"
    ) }}
  {%- endif -%}
  {%- for node in graph.sources.values() -%}
    {%- if (node.identifier | lower) == (relation.identifier | lower)
        and (node.schema | lower) == (relation.schema | lower)
        and ((node.database or '') | lower) == ((relation.database or '') | lower) -%}
      {{ return(node.unique_id) }}
    {%- endif -%}
  {%- endfor -%}
  {{ exceptions.raise_compiler_error(
    "fivetran_meta.fed_by_healthy_connection: " ~ relation ~ " is not a source of this project; attach the test to a source table (sources: tables: data_tests:)"
  ) }}
{%- endmacro %}
