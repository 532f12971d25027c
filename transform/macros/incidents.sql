{#- Incident helpers. var fivetran_meta_incident_health lists the health values that make
    a connection unhealthy (an incident), worst first: worst_health is the first of the
    list seen during the incident. -#}

{#- The incident health values as a SQL list: ('deleted', 'broken', ...). -#}
{% macro incident_health_list() -%}
  {{ fivetran_meta.sql_list(var('fivetran_meta_incident_health')) }}
{%- endmacro %}

{#- The rank of a health value in var fivetran_meta_incident_health (1 = worst); null for
    a value not in it. -#}
{% macro incident_severity(column) -%}
  case {{ column }}
  {%- for value in var('fivetran_meta_incident_health') %}
    when '{{ value }}' then {{ loop.index }}
  {%- endfor %}
  end
{%- endmacro %}

{#- The health value of a severity rank (the inverse of incident_severity). -#}
{% macro incident_health_of_severity(column) -%}
  case {{ column }}
  {%- for value in var('fivetran_meta_incident_health') %}
    when {{ loop.index }} then '{{ value }}'
  {%- endfor %}
  end
{%- endmacro %}
