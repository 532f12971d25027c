{#- For each dbt source at risk (fivetran_meta__source_alerts), every node of the project
    downstream of it, transitively: models, snapshots, seeds, analyses, exposures, semantic
    models, metrics and saved queries (downstream_name, downstream_type, depth = the
    shortest number of edges from the source), with the connection feeding the source, its
    health and since when.

    dbt's `graph` exists only at execution time, so the model renders the project's
    dependency edges from graph.nodes / graph.exposures / ... when it runs (the edges
    reachable from the project's sources, this package's own nodes and tests left out) as
    a `union all` of selects, and walks them in SQL with one join per level, as many levels
    as the longest path from a source (computed from the graph too): no recursive CTE, no
    VALUES list, so it runs on every warehouse. -#}

{%- set edges = [] -%}
{%- set nodes = {} -%}
{%- set depth = {} -%}
{%- set ns = namespace(changed=true, max_depth=0) -%}
{%- if execute -%}
  {%- set candidates = [] -%}
  {%- for node in graph.nodes.values() if node.resource_type in ['model', 'snapshot', 'seed', 'analysis'] -%}
    {%- do candidates.append(node) -%}
  {%- endfor -%}
  {%- for collection in ['exposures', 'semantic_models', 'metrics', 'saved_queries'] -%}
    {%- for node in (graph.get(collection) or {}).values() -%}
      {%- do candidates.append(node) -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- for node in candidates if node.package_name != 'fivetran_meta' -%}
    {%- for parent in (node.depends_on.nodes if node.depends_on else []) | unique -%}
      {%- do edges.append((parent, node.unique_id)) -%}
    {%- endfor -%}
    {%- do nodes.update({node.unique_id: node}) -%}
  {%- endfor -%}
  {%- for source in graph.sources.values() if source.package_name != 'fivetran_meta' -%}
    {%- do depth.update({source.unique_id: 0}) -%}
  {%- endfor -%}
  {#- Longest path from a source to each node it reaches: relax every edge until nothing
      changes (at most one pass per level). -#}
  {%- for _ in range(edges | length + 1) if ns.changed -%}
    {%- set ns.changed = false -%}
    {%- for parent, child in edges if parent in depth -%}
      {%- if child not in depth or depth[child] < depth[parent] + 1 -%}
        {%- do depth.update({child: depth[parent] + 1}) -%}
        {%- set ns.changed = true -%}
        {%- if depth[child] > ns.max_depth -%}{%- set ns.max_depth = depth[child] -%}{%- endif -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
{%- endif -%}
{%- set reachable = [] -%}
{%- for parent, child in edges if parent in depth -%}{%- do reachable.append((parent, child)) -%}{%- endfor -%}
{%- set levels = range(1, ns.max_depth + 1) | list -%}

with edges as (
    {%- for parent, child in reachable %}
    select {{ fivetran_meta.sql_text(parent) }} as parent_unique_id, {{ fivetran_meta.sql_text(child) }} as child_unique_id
    {{ "union all" if not loop.last }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as parent_unique_id,
        cast(null as {{ dbt.type_string() }}) as child_unique_id
    where 1 = 0
    {%- endfor %}
),

downstream_nodes as (
    {%- set reached = reachable | map(attribute=1) | unique | sort | list %}
    {%- for unique_id in reached %}
    {%- set node = nodes[unique_id] %}
    select
        {{ fivetran_meta.sql_text(unique_id) }} as downstream_unique_id,
        {{ fivetran_meta.sql_text(node.name) }} as downstream_name,
        {{ fivetran_meta.sql_text(node.resource_type) }} as downstream_type,
        {{ fivetran_meta.sql_text(node.package_name) }} as downstream_package,
        {{ fivetran_meta.sql_text(node.get('relation_name')) }} as downstream_relation,
        {{ fivetran_meta.sql_text((node.get('owner') or {}).get('name') if node.resource_type == 'exposure' else none) }} as downstream_owner
    {{ "union all" if not loop.last }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as downstream_unique_id,
        cast(null as {{ dbt.type_string() }}) as downstream_name,
        cast(null as {{ dbt.type_string() }}) as downstream_type,
        cast(null as {{ dbt.type_string() }}) as downstream_package,
        cast(null as {{ dbt.type_string() }}) as downstream_relation,
        cast(null as {{ dbt.type_string() }}) as downstream_owner
    where 1 = 0
    {%- endfor %}
),

at_risk as (
    select * from {{ ref('fivetran_meta__source_alerts') }}
),

{%- for level in levels %}

reach_{{ level }} as (
    select distinct r.source_unique_id, e.child_unique_id as node_unique_id
    {%- if level == 1 %}
    from at_risk as r
    inner join edges as e on e.parent_unique_id = r.source_unique_id
    {%- else %}
    from reach_{{ level - 1 }} as r
    inner join edges as e on e.parent_unique_id = r.node_unique_id
    {%- endif %}
),
{%- endfor %}

reached as (
    {%- for level in levels %}
    select source_unique_id, node_unique_id, {{ level }} as depth from reach_{{ level }}
    {{ "union all" if not loop.last }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as source_unique_id,
        cast(null as {{ dbt.type_string() }}) as node_unique_id,
        0 as depth
    where 1 = 0
    {%- endfor %}
),

nearest as (
    select source_unique_id, node_unique_id, min(depth) as depth
    from reached
    group by source_unique_id, node_unique_id
)

select
    a.source_unique_id,
    a.source_name,
    a.source_table,
    a.source_relation,
    n.downstream_unique_id,
    n.downstream_name,
    n.downstream_type,
    n.downstream_package,
    n.downstream_relation,
    n.downstream_owner,
    r.depth,
    a.connection_id,
    a.connection_name,
    a.service,
    a.health,
    a.risk_reason,
    a.at_risk_since,
    a.open_incident_id,
    a.cause_codes,
    a.cause_messages
from nearest as r
inner join at_risk as a on a.source_unique_id = r.source_unique_id
inner join downstream_nodes as n on n.downstream_unique_id = r.node_unique_id
