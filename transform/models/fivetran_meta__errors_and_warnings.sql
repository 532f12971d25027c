{#- Each task (blocking problem) and warning code a connection has shown, from
    connection_status_issues (one row per code of each connection_status_history row)
    at every observation of fivetran_meta__connection_observations: first_seen_at and
    last_seen_at are the first and last observations where the code was present,
    closed_at the first observation without it (a deleted connection's codes close at its
    deletion), is_open whether the latest observation shows it, message its latest text. -#}

with observations as (
    select * from {{ ref('fivetran_meta__connection_observations') }}
),

issues as (
    select connection_id, change_id, kind, code, message
    from {{ fivetran_meta.deduped_source('connection_status_issues', ['connection_id', 'change_id', 'kind', 'code'], 'observed_at') }} as i
),

present as (
    select
        o.connection_id,
        i.kind,
        i.code,
        i.change_id,
        i.message,
        o.observed_at,
        o.is_latest,
        row_number() over (
            partition by o.connection_id, i.kind, i.code order by o.observed_at desc
        ) as recency
    from observations as o
    inner join issues as i
        on i.connection_id = o.connection_id and i.change_id = o.change_id
),

spans as (
    select
        connection_id,
        kind,
        code,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(distinct change_id) as status_rows_with_it,
        count(*) as observations_with_it,
        max(case when is_latest then 1 else 0 end) = 1 as is_open,
        max(case when recency = 1 then message end) as message
    from present
    group by connection_id, kind, code
),

closings as (
    select s.connection_id, s.kind, s.code, min(o.observed_at) as closed_at
    from spans as s
    inner join observations as o
        on o.connection_id = s.connection_id and o.observed_at > s.last_seen_at
    group by s.connection_id, s.kind, s.code
)

select
    s.connection_id,
    s.kind,
    s.code,
    s.first_seen_at,
    s.last_seen_at,
    case when not s.is_open then c.closed_at end as closed_at,
    s.status_rows_with_it,
    s.observations_with_it,
    s.is_open,
    s.message
from spans as s
left join closings as c
    on c.connection_id = s.connection_id and c.kind = s.kind and c.code = s.code
