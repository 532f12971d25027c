{#- Every sync once: the rows of sync_history, plus the syncs known only from webhook
    sync_end events (Fivetran keeps little sync history; the receiver may have caught
    syncs the tap never listed). sync_history has no sync id, so a webhook sync_end is
    the same sync as a sync_history row of the same connection whose end is the nearest
    to the event's `created`, within var fivetran_meta_webhook_match_seconds, and only
    when that row's nearest event is this one (mutual nearest): a sync is never counted
    twice, and one event never claims two syncs. -#}
{%- set tolerance = var('fivetran_meta_webhook_match_seconds') -%}

with history as (
    -- A sync read while running and again once ended has two rows on an append-only
    -- loader: the ended one wins.
    select
        connection_id,
        started_at,
        ended_at,
        upper(status) as status,
        outcome,
        duration_seconds
    from {{ fivetran_meta.deduped_source('sync_history', ['connection_id', 'started_at'], 'ended_at') }} as h
),

events as (
    select *
    from {{ fivetran_meta.deduped_source('webhook_events', ['event_id'], 'received_at') }} as e
),

webhook_ends as (
    select connection_id, sync_id, created as ended_at, status
    from (
        select
            e.*,
            row_number() over (
                partition by e.connection_id, coalesce(e.sync_id, e.event_id)
                order by e.created, e.seq
            ) as nth
        from events as e
        where e.event = 'sync_end' and e.connection_id is not null and e.created is not null
    ) as ranked
    where nth = 1
),

webhook_starts as (
    select connection_id, sync_id, min(created) as started_at
    from events
    where event = 'sync_start' and sync_id is not null
    group by connection_id, sync_id
),

candidates as (
    select
        w.connection_id,
        w.sync_id,
        w.ended_at as event_at,
        h.started_at,
        abs({{ fivetran_meta.seconds_between('h.ended_at', 'w.ended_at') }}) as distance
    from webhook_ends as w
    inner join history as h
        on h.connection_id = w.connection_id
        and h.ended_at is not null
        and abs({{ fivetran_meta.seconds_between('h.ended_at', 'w.ended_at') }}) <= {{ tolerance }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by connection_id, sync_id, event_at order by distance, started_at
        ) as nearest_for_event,
        row_number() over (
            partition by connection_id, started_at order by distance, event_at
        ) as nearest_for_sync
    from candidates
),

matched as (
    select connection_id, sync_id, event_at
    from ranked
    where nearest_for_event = 1 and nearest_for_sync = 1
),

webhook_only as (
    select
        w.connection_id,
        s.started_at,
        w.ended_at,
        upper(w.status) as status,
        case
            when upper(w.status) in ('SUCCESSFUL', 'COMPLETED', 'SUCCESS_WITH_TASK') then 'succeeded'
            when upper(w.status) in ('FAILURE', 'FAILURE_WITH_TASK') then 'failed'
            when upper(w.status) in ('CANCELED', 'CANCELLED') then 'canceled'
            when upper(w.status) = 'RESCHEDULED' then 'rescheduled'
            else 'other'
        end as outcome,
        {{ fivetran_meta.seconds_between('s.started_at', 'w.ended_at') }} as duration_seconds
    from webhook_ends as w
    left join webhook_starts as s
        on s.connection_id = w.connection_id and s.sync_id = w.sync_id
    where not exists (
        select 1
        from matched as m
        where m.connection_id = w.connection_id
            and m.event_at = w.ended_at
            and coalesce(m.sync_id, '') = coalesce(w.sync_id, '')
    )
)

select
    connection_id,
    started_at,
    ended_at,
    status,
    outcome,
    cast(duration_seconds as {{ fivetran_meta.type_double() }}) as duration_seconds,
    'sync_history' as known_from
from history
union all
select
    connection_id,
    started_at,
    ended_at,
    status,
    outcome,
    cast(duration_seconds as {{ fivetran_meta.type_double() }}),
    'webhook_events'
from webhook_only
