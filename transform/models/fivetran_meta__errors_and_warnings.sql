{#- Each task (blocking problem) and warning code a connection has shown, from
    connection_status_history: when it was first and last seen, whether it is still
    open (in the connection's latest status), and its current message when open. -#}
{%- set connections = source('fivetran_meta', 'connections') -%}

with statuses as (
    select
        h.*,
        coalesce(
            lead(h.observed_at) over (partition by h.connection_id order by h.observed_at),
            greatest(r.last_run, h.observed_at)
        ) as valid_to,
        row_number() over (partition by h.connection_id order by h.observed_at desc) as recency
    from {{ source('fivetran_meta', 'connection_status_history') }} as h
    cross join (select max(observed_at) as last_run from {{ connections }}) as r
),

codes as (
    select s.connection_id, 'task' as kind, t.value as code, s.observed_at, s.valid_to, s.recency
    from statuses as s
    {{ fivetran_meta.string_array_rows('s.task_codes', 't') }}
    union all
    select s.connection_id, 'warning', w.value, s.observed_at, s.valid_to, s.recency
    from statuses as s
    {{ fivetran_meta.string_array_rows('s.warning_codes', 'w') }}
),

current_messages as (
    select c.id as connection_id, 'task' as kind, t.item ->> 'code' as code,
        max(t.item ->> 'message') as message
    from {{ connections }} as c
    {{ fivetran_meta.json_array_rows("c.status -> 'tasks'", 't') }}
    group by c.id, t.item ->> 'code'
    union all
    select c.id, 'warning', w.item ->> 'code', max(w.item ->> 'message')
    from {{ connections }} as c
    {{ fivetran_meta.json_array_rows("c.status -> 'warnings'", 'w') }}
    group by c.id, w.item ->> 'code'
)

select
    codes.connection_id,
    codes.kind,
    codes.code,
    min(codes.observed_at) as first_seen_at,
    max(codes.valid_to) as last_seen_at,
    count(*) as status_rows_with_it,
    max(case when codes.recency = 1 then 1 else 0 end) = 1 as is_open,
    max(case when codes.recency = 1 then m.message end) as message
from codes
left join current_messages as m
    on m.connection_id = codes.connection_id and m.kind = codes.kind and m.code = codes.code
group by codes.connection_id, codes.kind, codes.code
