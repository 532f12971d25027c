{#- Tables and listed columns enabled, disabled, added, removed, or whose sync mode or
    hashing changed, with the run that observed it (from schema_changes). The tap keeps
    no names for removed objects, only their key: the names come back here from the last
    connection_tables / connection_columns row with the same object_key (the tap writes
    that key on those rows; they stay in the warehouse unless the target hard-deletes
    them). -#}

with changes as (
    select *
    from {{ fivetran_meta.deduped_source('schema_changes', ['connection_id', 'object_key', 'observed_at', 'change_type']) }} as s
),

table_names as (
    select
        connection_id,
        object_key,
        max(schema_name) as schema_name,
        max(table_name) as table_name
    from {{ fivetran_meta.deduped_source('connection_tables', ['connection_id', 'schema_name', 'table_name']) }} as t
    group by connection_id, object_key
),

column_names as (
    select
        connection_id,
        object_key,
        max(schema_name) as schema_name,
        max(table_name) as table_name,
        max(column_name) as column_name
    from {{ fivetran_meta.deduped_source('connection_columns', ['connection_id', 'schema_name', 'table_name', 'column_name']) }} as c
    group by connection_id, object_key
),

named as (
    select
        ch.*,
        coalesce(ch.schema_name, tn.schema_name, cn.schema_name) as known_schema_name,
        coalesce(ch.table_name, tn.table_name, cn.table_name) as known_table_name,
        coalesce(ch.column_name, cn.column_name) as known_column_name
    from changes as ch
    left join table_names as tn
        on ch.object_type = 'table'
        and ch.schema_name is null
        and tn.connection_id = ch.connection_id
        and tn.object_key = ch.object_key
    left join column_names as cn
        on ch.object_type = 'column'
        and ch.schema_name is null
        and cn.connection_id = ch.connection_id
        and cn.object_key = ch.object_key
)

select
    n.connection_id,
    c.{{ fivetran_meta.quoted_column('schema') }} as connection_name,
    n.service,
    n.group_id,
    n.observed_at,
    n.previous_observed_at,
    n.change_type,
    n.object_type,
    n.object_key,
    n.known_schema_name as schema_name,
    n.known_table_name as table_name,
    n.known_column_name as column_name,
    n.known_table_name is not null as is_named,
    l.destination_fqn as destination_table,
    n.previous_enabled,
    n.enabled,
    n.previous_sync_mode,
    n.sync_mode,
    n.previous_hashed,
    n.hashed
from named as n
left join {{ fivetran_meta.deduped_source('connections', ['id'], 'observed_at') }} as c
    on c.id = n.connection_id
left join {{ fivetran_meta.deduped_source('table_lineage', ['connection_id', 'source_schema', 'source_table']) }} as l
    on l.connection_id = n.connection_id
    and l.source_schema = n.known_schema_name
    and l.source_table = n.known_table_name
