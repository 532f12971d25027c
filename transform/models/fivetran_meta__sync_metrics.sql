{#- One row per connection and UTC day, from its first day (first sync or first
    observation) to today (to its deletion day for a deleted connection), days without
    syncs included with zeros: how many syncs started and how each ended, every outcome
    apart (TRUNCATED, which Fivetran does not call a success or a failure, is
    syncs_truncated, not hidden in other), the failure rate over finished syncs, and
    durations. Syncs come from fivetran_meta__syncs (sync_history plus syncs known only
    from webhook sync_end events, never counted twice). The day is the day a sync
    started; a sync known only from its sync_end event counts on the day it ended. -#}

with syncs as (
    select
        s.*,
        cast(coalesce(s.started_at, s.ended_at) as date) as sync_day
    from {{ ref('fivetran_meta__syncs') }} as s
),

per_day as (
    select
        connection_id,
        sync_day,
        count(*) as syncs,
        count(started_at) as syncs_started,
        sum(case when outcome = 'succeeded' then 1 else 0 end) as syncs_succeeded,
        sum(case when outcome = 'failed' then 1 else 0 end) as syncs_failed,
        sum(case when outcome = 'canceled' then 1 else 0 end) as syncs_canceled,
        sum(case when outcome = 'rescheduled' then 1 else 0 end) as syncs_rescheduled,
        sum(case when outcome = 'running' then 1 else 0 end) as syncs_running,
        sum(case when outcome = 'other' and status = 'TRUNCATED' then 1 else 0 end)
            as syncs_truncated,
        sum(case when outcome not in ('succeeded', 'failed', 'canceled', 'rescheduled', 'running')
            and coalesce(status, '') <> 'TRUNCATED' then 1 else 0 end) as syncs_other,
        sum(case when known_from = 'webhook_events' then 1 else 0 end) as syncs_from_webhooks_only,
        {{ fivetran_meta.percentile('duration_seconds', 0.5) }} as duration_p50_seconds,
        {{ fivetran_meta.percentile('duration_seconds', 0.95) }} as duration_p95_seconds,
        max(duration_seconds) as duration_max_seconds
    from syncs
    group by connection_id, sync_day
),

lives as (
    select
        connection_id,
        min(first_day) as first_day,
        max(deleted_day) as deleted_day
    from (
        select connection_id, min(sync_day) as first_day, cast(null as date) as deleted_day
        from syncs
        group by connection_id
        union all
        select connection_id, cast(min(observed_at) as date), cast(max(deleted_at) as date)
        from {{ ref('fivetran_meta__connection_observations') }}
        group by connection_id
    ) as known
    group by connection_id
),

today as (
    select cast({{ fivetran_meta.utc_now() }} as date) as day
),

bounds as (
    select min(l.first_day) as first_day, max(t.day) as last_day
    from lives as l
    cross join today as t
),

calendar as (
    select cast({{ fivetran_meta.dateadd('day', 'n.n', 'b.first_day') }} as date) as day
    from ({{ fivetran_meta.integers(4) }}) as n
    cross join bounds as b
    where n.n <= {{ fivetran_meta.datediff('b.first_day', 'b.last_day', 'day') }}
),

days as (
    select l.connection_id, c.day
    from lives as l
    cross join today as t
    inner join calendar as c
        on c.day >= l.first_day
        and c.day <= coalesce(l.deleted_day, t.day)
    union all
    -- Syncs dated after today (clock skew) or after the deletion day are kept too.
    select p.connection_id, p.sync_day
    from per_day as p
    cross join today as t
    inner join lives as l on l.connection_id = p.connection_id
    where p.sync_day > coalesce(l.deleted_day, t.day)
),

connections as (
    select c.id as connection_id, c.service, c.group_id
    from {{ fivetran_meta.deduped_source('connections', ['id'], 'observed_at') }} as c
)

select
    d.connection_id,
    d.day as sync_day,
    c.service,
    c.group_id,
    coalesce(p.syncs, 0) as syncs,
    coalesce(p.syncs_started, 0) as syncs_started,
    coalesce(p.syncs_succeeded, 0) as syncs_succeeded,
    coalesce(p.syncs_failed, 0) as syncs_failed,
    coalesce(p.syncs_canceled, 0) as syncs_canceled,
    coalesce(p.syncs_rescheduled, 0) as syncs_rescheduled,
    coalesce(p.syncs_truncated, 0) as syncs_truncated,
    coalesce(p.syncs_running, 0) as syncs_running,
    coalesce(p.syncs_other, 0) as syncs_other,
    coalesce(p.syncs, 0) - coalesce(p.syncs_running, 0) as syncs_finished,
    case
        when coalesce(p.syncs, 0) - coalesce(p.syncs_running, 0) > 0
        then p.syncs_failed * 1.0 / (p.syncs - p.syncs_running)
    end as failure_rate,
    coalesce(p.syncs_from_webhooks_only, 0) as syncs_from_webhooks_only,
    p.duration_p50_seconds,
    p.duration_p95_seconds,
    p.duration_max_seconds
from days as d
left join per_day as p on p.connection_id = d.connection_id and p.sync_day = d.day
left join connections as c on c.connection_id = d.connection_id
