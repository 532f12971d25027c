{#- One row per connection, deleted ones included: who it is, its health (the verdict of
    the last observation; 'deleted' once it is gone from Fivetran, also when the loader
    flagged its row deleted), why, when it was last listed, its last success and failure,
    freshness and minutes since success judged at build time (UTC), a sync running for
    too long, open tasks and warnings, schedule, and how many tables it syncs into how
    many destination tables. -#}
{%- set connections_relation = source('fivetran_meta', 'connections') -%}
{%- set connection_tables = source('fivetran_meta', 'connection_tables') -%}
{%- set table_lineage = source('fivetran_meta', 'table_lineage') -%}
{%- set slack = var('fivetran_meta_freshness_slack_minutes') -%}
{%- set multiple = var('fivetran_meta_stuck_sync_p95_multiple') -%}
{%- set min_hours = var('fivetran_meta_stuck_sync_min_hours') -%}

with connections as (
    select
        c.*,
        {{ fivetran_meta.flagged_deleted(connections_relation, 'c') }} as is_flagged_deleted
    from {{ fivetran_meta.deduped_source('connections', ['id'], 'observed_at') }} as c
),

deletions as (
    select connection_id, max(deleted_at) as deleted_at
    from {{ ref('fivetran_meta__connection_observations') }}
    group by connection_id
),

open_issues as (
    select
        connection_id,
        sum(case when kind = 'task' then 1 else 0 end) as task_count,
        sum(case when kind = 'warning' then 1 else 0 end) as warning_count
    from {{ ref('fivetran_meta__errors_and_warnings') }}
    where is_open
    group by connection_id
),

task_lists as (
    select
        connection_id,
        {{ dbt.listagg('code', "', '", 'order by code') }} as task_codes,
        {{ dbt.listagg('message', "' | '", 'order by code') }} as task_messages
    from {{ ref('fivetran_meta__errors_and_warnings') }}
    where is_open and kind = 'task'
    group by connection_id
),

warning_lists as (
    select
        connection_id,
        {{ dbt.listagg('code', "', '", 'order by code') }} as warning_codes,
        {{ dbt.listagg('message', "' | '", 'order by code') }} as warning_messages
    from {{ ref('fivetran_meta__errors_and_warnings') }}
    where is_open and kind = 'warning'
    group by connection_id
),

syncs as (
    select
        s.*,
        row_number() over (
            partition by s.connection_id order by s.started_at desc
        ) as recency
    from {{ ref('fivetran_meta__syncs') }} as s
    where s.started_at is not null
),

durations as (
    select
        connection_id,
        {{ fivetran_meta.percentile('duration_seconds', 0.95) }} as duration_p95_seconds
    from syncs
    where outcome <> 'running' and duration_seconds is not null
    group by connection_id
),

running as (
    select connection_id, started_at as running_sync_started_at
    from syncs
    where recency = 1 and outcome = 'running'
),

tables as (
    select
        connection_id,
        count(*) as table_count,
        sum(case when enabled and schema_enabled then 1 else 0 end) as enabled_table_count
    from {{ fivetran_meta.deduped_source('connection_tables', ['connection_id', 'schema_name', 'table_name']) }} as t
    where {{ fivetran_meta.not_deleted(connection_tables, 't') }}
    group by connection_id
),

lineage as (
    select
        connection_id,
        count(distinct case when enabled then lower(destination_fqn) end)
            as destination_table_count
    from {{ fivetran_meta.deduped_source('table_lineage', ['connection_id', 'source_schema', 'source_table']) }} as l
    where {{ fivetran_meta.not_deleted(table_lineage, 'l') }}
    group by connection_id
),

judged as (
    select
        c.*,
        x.deleted_at,
        c.is_flagged_deleted or x.deleted_at is not null as is_deleted,
        {{ fivetran_meta.utc_now() }} as built_at
    from connections as c
    left join deletions as x on x.connection_id = c.id
),

timed as (
    select
        j.*,
        case when j.is_deleted then 'deleted' else j.health end as current_health,
        {{ fivetran_meta.datediff('j.succeeded_at', 'j.built_at', 'minute') }} as minutes_since_success_now,
        r.running_sync_started_at,
        case
            when r.running_sync_started_at is not null
            then {{ fivetran_meta.datediff('r.running_sync_started_at', 'j.observed_at', 'minute') }}
        end as running_sync_minutes,
        du.duration_p95_seconds
    from judged as j
    left join running as r on r.connection_id = j.id
    left join durations as du on du.connection_id = j.id
)

select
    c.id as connection_id,
    c.{{ fivetran_meta.quoted_column('schema') }} as connection_name,
    c.service,
    ct.name as service_name,
    c.group_id,
    g.name as group_name,
    c.group_id as destination_id,
    d.service as destination_service,
    d.database as destination_database,
    c.account_id,
    c.current_health as health,
    {{ fivetran_meta.health_rule('c.current_health') }} as health_rule,
    {{ fivetran_meta.is_at_risk('c.current_health') }} as is_at_risk,
    c.is_deleted,
    c.deleted_at,
    c.observed_at as last_observed_at,
    c.blocked_by,
    c.setup_state,
    c.sync_state,
    c.update_state,
    c.is_historical_sync,
    c.rescheduled_for,
    c.succeeded_at as last_success_at,
    c.failed_at as last_failure_at,
    c.last_sync_completed_at,
    c.last_sync_succeeded,
    c.minutes_since_success_now as minutes_since_success,
    case
        when c.is_deleted or c.succeeded_at is null then false
        when c.schedule_type = 'manual' or c.sync_frequency is null then cast(null as {{ dbt.type_boolean() }})
        else c.minutes_since_success_now <= c.sync_frequency + {{ slack }}
    end as is_fresh,
    c.built_at as judged_at,
    c.running_sync_started_at,
    c.running_sync_minutes,
    c.duration_p95_seconds as sync_duration_p95_seconds,
    coalesce(
        not c.is_deleted
        and c.running_sync_minutes > {{ min_hours }} * 60
        and (
            c.duration_p95_seconds is null
            or c.running_sync_minutes * 60 > {{ multiple }} * c.duration_p95_seconds
        ),
        false
    ) as is_sync_stuck,
    coalesce(oi.task_count, 0) as task_count,
    coalesce(oi.warning_count, 0) as warning_count,
    tl.task_codes,
    tl.task_messages,
    wl.warning_codes,
    wl.warning_messages,
    coalesce(c.paused, false) as is_paused,
    c.sync_frequency as sync_frequency_minutes,
    c.schedule_type,
    c.daily_sync_time,
    c.created_at,
    coalesce(t.table_count, 0) as table_count,
    coalesce(t.enabled_table_count, 0) as enabled_table_count,
    coalesce(l.destination_table_count, 0) as destination_table_count,
    c.observed_at
from timed as c
left join {{ fivetran_meta.deduped_source('groups', ['id']) }} as g on g.id = c.group_id
left join {{ fivetran_meta.deduped_source('destinations', ['id']) }} as d on d.id = c.group_id
left join {{ fivetran_meta.deduped_source('connector_types', ['account_id', 'id']) }} as ct
    on ct.id = c.service and ct.account_id = c.account_id
left join open_issues as oi on oi.connection_id = c.id
left join task_lists as tl on tl.connection_id = c.id
left join warning_lists as wl on wl.connection_id = c.id
left join tables as t on t.connection_id = c.id
left join lineage as l on l.connection_id = c.id
