{#- One row per dbt source of the project that is at risk (fivetran_meta__dbt_source_health
    is_at_risk: the connection feeding it is in var fivetran_meta_at_risk_health, deleted
    included, or its table is disabled in Fivetran), with what an alert says: the
    connection, its health, since when (at_risk_since), the cause and a one-line
    alert_message. Read by the generic test fivetran_meta.fed_by_healthy_connection and by
    fivetran_meta__dbt_impact.

    at_risk_since: the start of the connection's open incident (fivetran_meta__incidents);
    else, for a disabled table, the run that saw it disabled (schema changelog); else the
    connection's deletion or its last observation. cause_messages: the open incident's
    tasks and warnings, else the connection's open task messages. -#}

with at_risk as (
    select *
    from {{ ref('fivetran_meta__dbt_source_health') }}
    where is_at_risk
),

open_incidents as (
    select
        i.*,
        row_number() over (partition by i.connection_id order by i.started_at desc) as recency
    from {{ ref('fivetran_meta__incidents') }} as i
    where i.is_open
),

disabled as (
    select
        connection_id,
        schema_name || '.' || table_name as fivetran_source_table,
        max(observed_at) as disabled_at
    from {{ ref('fivetran_meta__schema_changelog') }}
    where object_type = 'table' and change_type = 'disabled'
    group by connection_id, schema_name || '.' || table_name
),

alerts as (
    select
        s.source_unique_id,
        s.source_name,
        s.source_table,
        s.source_relation,
        s.connection_id,
        s.connection_name,
        s.service,
        s.health,
        s.risk_reason,
        coalesce(
            case when s.risk_reason in ('table_disabled', 'schema_disabled') then d.disabled_at end,
            o.started_at,
            c.deleted_at,
            c.last_observed_at
        ) as at_risk_since,
        o.incident_id as open_incident_id,
        coalesce(o.cause_codes, c.task_codes) as cause_codes,
        coalesce(o.cause_messages, c.task_messages) as cause_messages
    from at_risk as s
    left join open_incidents as o on o.connection_id = s.connection_id and o.recency = 1
    left join {{ ref('fivetran_meta__connection_status') }} as c on c.connection_id = s.connection_id
    left join disabled as d
        on d.connection_id = s.connection_id and d.fivetran_source_table = s.fivetran_source_table
)

select
    a.*,
    {{ dbt.concat([
        "'source '", 'a.source_name', "'.'", 'a.source_table',
        "' is fed by Fivetran connection '", "coalesce(a.connection_name, '?')",
        "' ('", "coalesce(a.connection_id, '?')", "'): '", "coalesce(a.risk_reason, '?')",
        "' since '", "coalesce(cast(a.at_risk_since as " ~ dbt.type_string() ~ "), 'unknown')",
        "coalesce(' - ' || a.cause_messages, '')"
    ]) }} as alert_message
from alerts as a
