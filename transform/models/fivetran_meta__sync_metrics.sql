{#- One row per connection and day (UTC) with syncs: how many started and how they
    ended, and how long they took. Syncs come from fivetran_meta__syncs (sync_history
    plus syncs known only from webhook sync_end events, never counted twice). The day
    is the day a sync started; a sync known only from its sync_end event without a
    sync_start counts on the day it ended. -#}

with syncs as (
    select
        s.*,
        cast(coalesce(s.started_at, s.ended_at) as date) as sync_day
    from {{ ref('fivetran_meta__syncs') }} as s
)

select
    s.connection_id,
    s.sync_day,
    max(c.service) as service,
    max(c.group_id) as group_id,
    count(*) as syncs,
    count(s.started_at) as syncs_started,
    sum(case when s.outcome = 'succeeded' then 1 else 0 end) as syncs_succeeded,
    sum(case when s.outcome = 'failed' then 1 else 0 end) as syncs_failed,
    sum(case when s.outcome = 'canceled' then 1 else 0 end) as syncs_canceled,
    sum(case when s.outcome = 'rescheduled' then 1 else 0 end) as syncs_rescheduled,
    sum(case when s.outcome = 'running' then 1 else 0 end) as syncs_running,
    sum(case when s.outcome not in ('succeeded', 'failed', 'canceled', 'rescheduled', 'running')
        then 1 else 0 end) as syncs_other,
    sum(case when s.known_from = 'webhook_events' then 1 else 0 end) as syncs_from_webhooks_only,
    percentile_cont(0.5) within group (order by s.duration_seconds) as duration_p50_seconds,
    percentile_cont(0.95) within group (order by s.duration_seconds) as duration_p95_seconds,
    max(s.duration_seconds) as duration_max_seconds
from syncs as s
left join {{ source('fivetran_meta', 'connections') }} as c on c.id = s.connection_id
group by s.connection_id, s.sync_day
