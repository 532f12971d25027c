{#- One row per connection (not flagged deleted by the target): who it is, its health and
    why, its last success and failure, open tasks and warnings, schedule, and how many
    tables it syncs into how many destination tables. Rows the target flagged deleted
    (_sdc_deleted_at, with emit_activate_version_messages) are left out; without that
    setting a table removed from a connection's config keeps its last row. -#}
{%- set connections = source('fivetran_meta', 'connections') -%}
{%- set connection_tables = source('fivetran_meta', 'connection_tables') -%}
{%- set table_lineage = source('fivetran_meta', 'table_lineage') -%}

with connections as (
    select *
    from {{ connections }} as c
    where {{ fivetran_meta.not_deleted(connections, 'c') }}
),

issues as (
    select
        c.id as connection_id,
        'task' as kind,
        t.item ->> 'code' as code,
        t.item ->> 'message' as message
    from connections as c
    {{ fivetran_meta.json_array_rows("c.status -> 'tasks'", 't') }}
    union all
    select
        c.id,
        'warning',
        w.item ->> 'code',
        w.item ->> 'message'
    from connections as c
    {{ fivetran_meta.json_array_rows("c.status -> 'warnings'", 'w') }}
),

issue_lists as (
    select
        connection_id,
        string_agg(case when kind = 'task' then code end, ', ' order by code) as task_codes,
        string_agg(case when kind = 'task' then message end, ' | ' order by code) as task_messages,
        string_agg(case when kind = 'warning' then code end, ', ' order by code) as warning_codes,
        string_agg(case when kind = 'warning' then message end, ' | ' order by code)
            as warning_messages
    from issues
    group by connection_id
),

tables as (
    select
        connection_id,
        count(*) as table_count,
        sum(case when enabled and schema_enabled then 1 else 0 end) as enabled_table_count
    from {{ connection_tables }} as t
    where {{ fivetran_meta.not_deleted(connection_tables, 't') }}
    group by connection_id
),

lineage as (
    select
        connection_id,
        count(distinct case when enabled then lower(destination_fqn) end)
            as destination_table_count
    from {{ table_lineage }} as l
    where {{ fivetran_meta.not_deleted(table_lineage, 'l') }}
    group by connection_id
)

select
    c.id as connection_id,
    c.{{ adapter.quote('schema') }} as connection_name,
    c.service,
    ct.name as service_name,
    c.group_id,
    g.name as group_name,
    c.group_id as destination_id,
    d.service as destination_service,
    d.database as destination_database,
    c.account_id,
    c.health,
    {{ fivetran_meta.health_rule('c.health') }} as health_rule,
    c.blocked_by,
    c.setup_state,
    c.sync_state,
    c.update_state,
    c.is_historical_sync,
    c.succeeded_at as last_success_at,
    c.failed_at as last_failure_at,
    c.last_sync_completed_at,
    c.last_sync_succeeded,
    c.minutes_since_last_success as minutes_since_success,
    c.is_fresh,
    coalesce(c.task_count, 0) as task_count,
    coalesce(c.warning_count, 0) as warning_count,
    i.task_codes,
    i.task_messages,
    i.warning_codes,
    i.warning_messages,
    coalesce(c.paused, false) as is_paused,
    c.sync_frequency as sync_frequency_minutes,
    c.schedule_type,
    c.daily_sync_time,
    c.created_at,
    coalesce(t.table_count, 0) as table_count,
    coalesce(t.enabled_table_count, 0) as enabled_table_count,
    coalesce(l.destination_table_count, 0) as destination_table_count,
    c.observed_at
from connections as c
left join {{ source('fivetran_meta', 'groups') }} as g on g.id = c.group_id
left join {{ source('fivetran_meta', 'destinations') }} as d on d.id = c.group_id
left join {{ source('fivetran_meta', 'connector_types') }} as ct on ct.id = c.service
left join issue_lists as i on i.connection_id = c.id
left join tables as t on t.connection_id = c.id
left join lineage as l on l.connection_id = c.id
