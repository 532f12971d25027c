{#- fivetran_meta.fed_by_healthy_connection: attach to your own source tables
    (`data_tests:` on a source table). It fails, or warns with `severity: warn`, when the
    Fivetran connection feeding that table is at risk (fivetran_meta__source_alerts: health
    in var fivetran_meta_at_risk_health, deleted included, or the table disabled in
    Fivetran). Each failing row names the connection, its health, since when and the
    task messages (alert_message); the same line is logged, so the output of `dbt build`
    or `dbt test` says it. It reads only this package's models, never the source table
    itself (which need not exist where the test runs). A source no connection feeds passes.

    The source is found in dbt's graph by its database, schema and identifier. -#}
{% test fed_by_healthy_connection(model) %}
  {%- set source_id = fivetran_meta.source_unique_id_of(model) -%}
  {%- set alerts = ref('fivetran_meta', 'fivetran_meta__source_alerts') -%}
  {%- if execute and source_id and var('fivetran_meta_introspect', true) and adapter.get_relation(alerts.database, alerts.schema, alerts.identifier) -%}
    {%- set found = run_query(
      "select alert_message from " ~ alerts ~ " where source_unique_id = '" ~ source_id ~ "'"
    ) -%}
    {%- for row in found.rows -%}
      {%- do log("fivetran_meta alert: " ~ row[0], info=true) -%}
    {%- endfor -%}
  {%- endif %}
select
    source_unique_id,
    source_relation,
    connection_id,
    connection_name,
    health,
    risk_reason,
    at_risk_since,
    cause_codes,
    cause_messages,
    alert_message
from {{ alerts }}
where source_unique_id = '{{ source_id }}'
{% endtest %}
