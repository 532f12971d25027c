"""Static catalogues: source and destination services, regions, roles, vocabularies."""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of source services, which drive schema naming and table vocabularies.
DATABASE = "database"
APP = "app"
FILE = "file"  # single-table connectors: schema names look like "prefix.table"
EVENTS = "events"
FUNCTION = "function"


@dataclass(frozen=True)
class SourceService:
    """A connector type that connections in the simulated account use.

    Attributes:
        id: Service id (``connection.service``).
        name: Display name.
        category: ``type`` field of the connector-type metadata.
        kind: One of the kind constants above.
        prefix: Prefix for destination schema names.
        weight: Relative popularity when assigning services to connections.
    """

    id: str
    name: str
    category: str
    kind: str
    prefix: str
    weight: int = 1


SOURCE_SERVICES: tuple[SourceService, ...] = (
    SourceService("postgres", "PostgreSQL", "Database", DATABASE, "postgres", 8),
    SourceService("mysql", "MySQL", "Database", DATABASE, "mysql", 5),
    SourceService("sql_server", "SQL Server", "Database", DATABASE, "sqlserver", 3),
    SourceService("oracle", "Oracle", "Database", DATABASE, "oracle", 2),
    SourceService("mongo", "MongoDB", "Database", DATABASE, "mongo", 2),
    SourceService("dynamodb", "Amazon DynamoDB", "Database", DATABASE, "dynamo", 1),
    SourceService("salesforce", "Salesforce", "Sales", APP, "salesforce", 6),
    SourceService("hubspot", "HubSpot", "Marketing", APP, "hubspot", 5),
    SourceService("stripe", "Stripe", "Finance", APP, "stripe", 5),
    SourceService("google_sheets", "Google Sheets", "File", FILE, "gsheets", 6),
    SourceService("s3", "Amazon S3", "File", FILE, "s3", 4),
    SourceService("gcs", "Google Cloud Storage", "File", FILE, "gcs", 2),
    SourceService("sftp", "SFTP", "File", FILE, "sftp", 1),
    SourceService("azure_blob_storage", "Azure Blob Storage", "File", FILE, "azure_blob", 1),
    SourceService("google_analytics_4", "Google Analytics 4", "Marketing", APP, "ga4", 3),
    SourceService("facebook_ads", "Facebook Ads", "Marketing", APP, "facebook_ads", 3),
    SourceService("google_ads", "Google Ads", "Marketing", APP, "google_ads", 3),
    SourceService("linkedin_ads", "LinkedIn Ad Analytics", "Marketing", APP, "linkedin_ads", 1),
    SourceService("zendesk", "Zendesk Support", "Support", APP, "zendesk", 2),
    SourceService("intercom", "Intercom", "Support", APP, "intercom", 1),
    SourceService("jira", "Jira", "Engineering", APP, "jira", 2),
    SourceService("github", "GitHub", "Engineering", APP, "github", 2),
    SourceService("shopify", "Shopify", "Sales", APP, "shopify", 2),
    SourceService("netsuite_suiteanalytics", "NetSuite SuiteAnalytics", "Finance", APP, "netsuite"),
    SourceService("quickbooks", "QuickBooks", "Finance", APP, "quickbooks", 1),
    SourceService("workday", "Workday HCM", "HumanResources", APP, "workday", 1),
    SourceService("greenhouse", "Greenhouse", "HumanResources", APP, "greenhouse", 1),
    SourceService("asana", "Asana", "Productivity", APP, "asana", 1),
    SourceService("marketo", "Marketo", "Marketing", APP, "marketo", 1),
    SourceService("webhooks", "Webhooks", "Events", EVENTS, "webhooks", 1),
    SourceService("segment", "Segment", "Events", EVENTS, "segment", 1),
    SourceService("aws_lambda", "AWS Lambda", "Function", FUNCTION, "lambda", 1),
    SourceService("connector_sdk", "Connector SDK", "Function", FUNCTION, "sdk", 1),
)

#: Connector types listed in metadata although no connection uses them.
EXTRA_CONNECTOR_TYPES: tuple[tuple[str, str, str], ...] = (
    ("15five", "15Five", "HumanResources"),
    ("airtable", "Airtable", "Productivity"),
    ("zoom", "Zoom", "Productivity"),
    ("okta", "Okta", "Security"),
    ("braze", "Braze", "Marketing"),
    ("looker_source", "Looker", "BITool"),
)

CAMEL_CASE_SERVICES = frozenset({"salesforce", "netsuite_suiteanalytics", "marketo"})

DESTINATION_SERVICES: tuple[tuple[str, int], ...] = (
    ("snowflake", 12),
    ("big_query", 8),
    ("databricks", 6),
    ("redshift", 5),
    ("postgres_warehouse", 3),
    ("postgres_rds_warehouse", 1),
    ("postgres_gcp_warehouse", 1),
    ("aurora_postgres_warehouse", 1),
    ("aurora_warehouse", 1),
    ("azure_postgres_warehouse", 1),
    ("mysql_warehouse", 1),
    ("mysql_rds_warehouse", 1),
    ("maria_warehouse", 1),
    ("maria_rds_warehouse", 1),
    ("sql_server_warehouse", 2),
    ("sql_server_rds_warehouse", 1),
    ("azure_sql_data_warehouse", 2),
    ("azure_sql_database", 1),
    ("azure_sql_managed_db_warehouse", 1),
    ("synapse_analytics", 1),
    ("managed_data_lake", 2),
    ("new_s3_datalake", 2),
    ("adls", 1),
    ("onelake", 1),
    ("gcs_data_lake", 1),
    ("big_query_dts", 1),
    ("panoply", 1),
    ("periscope_warehouse", 1),
    ("snowflake_gcp", 1),
    ("snowflake_azure", 1),
    ("databricks_gcp", 1),
    ("databricks_azure", 1),
    ("clickhouse", 1),
    ("motherduck", 1),
    ("materialize", 1),
    ("singlestore", 1),
    ("starburst", 1),
    ("firebolt", 1),
    ("oracle_warehouse", 1),
    ("sap_hana_warehouse", 1),
)

REGIONS: tuple[str, ...] = (
    "GCP_US_EAST4",
    "GCP_US_WEST1",
    "GCP_EUROPE_WEST3",
    "GCP_AUSTRALIA_SOUTHEAST1",
    "AWS_US_EAST_1",
    "AWS_US_EAST_2",
    "AWS_US_WEST_2",
    "AWS_EU_CENTRAL_1",
    "AWS_EU_WEST_1",
    "AWS_AP_SOUTHEAST_2",
    "AZURE_EASTUS2",
    "AZURE_WESTEUROPE",
)

#: (name, description, scope, is_custom, replacement_role_name or None when not deprecated)
ROLES: tuple[tuple[str, str, tuple[str, ...], bool, str | None], ...] = (
    ("Account Administrator", "Full access to the account", ("ACCOUNT",), False, None),
    ("Account Reviewer", "Read-only access to the account", ("ACCOUNT",), False, None),
    ("Account Analyst", "Read access plus transformations", ("ACCOUNT",), False, None),
    ("Account Billing", "Manage billing", ("ACCOUNT",), False, None),
    ("Destination Administrator", "Full access to the destination", ("DESTINATION",), False, None),
    ("Destination Reviewer", "Read-only access to the destination", ("DESTINATION",), False, None),
    ("Destination Analyst", "Read access to the destination", ("DESTINATION",), False, None),
    ("Connector Administrator", "Full access to the connector", ("CONNECTOR",), False, None),
    ("Connector Collaborator", "Edit the connector", ("CONNECTOR",), False, None),
    ("Connector Reviewer", "Read-only access to the connector", ("CONNECTOR",), False, None),
    ("Team Manager", "Manage the team", ("TEAM",), False, None),
    ("Team Member", "Member of the team", ("TEAM",), False, None),
    ("Connector Creator", "Create connectors", ("DESTINATION",), False, "Destination Analyst"),
    (
        "Data Steward",
        "Custom role for data governance",
        ("ACCOUNT", "DESTINATION", "CONNECTOR"),
        True,
        None,
    ),
    ("Finance Reader", "Custom read-only finance role", ("DESTINATION", "CONNECTOR"), True, None),
)

ACCOUNT_ROLES = ("Account Administrator", "Account Reviewer", "Account Analyst", "Data Steward")
DESTINATION_ROLES = (
    "Destination Administrator",
    "Destination Reviewer",
    "Destination Analyst",
    "Finance Reader",
)
CONNECTION_ROLES = ("Connector Administrator", "Connector Collaborator", "Connector Reviewer")
TEAM_MEMBER_ROLES = ("Team Member", "Team Member", "Team Manager")

GROUP_NAMES: tuple[str, ...] = (
    "Production",
    "Staging",
    "Analytics",
    "Marketing",
    "Finance",
    "Sales Ops",
    "Product",
    "Data Science",
    "Customer Success",
    "Engineering",
    "Warehouse EU",
    "Warehouse US",
)

TEAM_NAMES: tuple[str, ...] = (
    "Data Engineering",
    "Finance Team",
    "Growth",
    "Analytics Engineering",
    "Platform",
    "Head Team",
    "RevOps",
    "Security",
)

DATABASE_SCHEMAS = ("public", "sales", "inventory", "analytics", "billing", "hr", "dbo", "app")
DATABASE_TABLES = (
    "customers",
    "orders",
    "order_items",
    "products",
    "inventory",
    "payments",
    "invoices",
    "employees",
    "accounts",
    "events",
    "sessions",
    "shipments",
    "suppliers",
    "audit_log",
    "addresses",
    "refunds",
)
APP_TABLES: dict[str, tuple[str, ...]] = {
    "salesforce": ("account", "contact", "opportunity", "lead", "case", "user", "task", "campaign"),
    "hubspot": ("contact", "company", "deal", "engagement", "owner", "ticket", "email_event"),
    "stripe": ("charge", "customer", "invoice", "subscription", "payout", "refund", "plan"),
    "github": ("repository", "issue", "pull_request", "commit", "user", "team", "label"),
    "jira": ("issue", "project", "sprint", "user", "comment", "worklog", "field"),
}
GENERIC_APP_TABLES = (
    "users",
    "accounts",
    "events",
    "campaigns",
    "ads",
    "ad_groups",
    "tickets",
    "comments",
    "projects",
    "reports",
    "contacts",
    "invoices",
)
EVENT_TABLES = ("track", "identify", "page", "screen", "group", "alias")
FUNCTION_TABLES = ("data", "state_log", "records", "cursor")
COLUMN_NAMES = (
    "name",
    "email",
    "created_at",
    "updated_at",
    "status",
    "amount",
    "currency",
    "owner_id",
    "account_id",
    "description",
    "type",
    "is_deleted",
    "country",
    "city",
    "phone",
    "title",
    "stage",
    "close_date",
    "quantity",
    "price",
    "sku",
    "customer_id",
    "source",
    "campaign_id",
    "notes",
)
FILE_TABLE_WORDS = ("budget", "forecast", "leads", "targets", "events", "exports", "mapping")

SYNC_FREQUENCIES: tuple[tuple[int, int], ...] = (
    (5, 1),
    (15, 2),
    (30, 2),
    (60, 4),
    (120, 2),
    (180, 2),
    (360, 6),
    (480, 1),
    (720, 2),
    (1440, 4),
)

FAILURE_REASONS = (
    "Unable to connect to the source: connection timed out",
    "Permission denied for relation orders",
    "OAuth token has expired; please reauthorize",
    "Destination warehouse is suspended",
)

QUICKSTART_PACKAGES = ("hubspot", "salesforce", "stripe", "github", "jira", "zendesk", "shopify")
WEBHOOK_EVENTS = (
    "sync_start",
    "sync_end",
    "connection_successful",
    "connection_failure",
    "create_connector",
    "pause_connector",
    "resume_connector",
    "dbt_run_start",
    "dbt_run_succeeded",
    "dbt_run_failed",
)
SUPPORTED_FEATURES = (
    "CUSTOM_DATA",
    "CAPTURE_DELETES",
    "DATA_BLOCKING",
    "COLUMN_HASHING",
    "RE_SYNC",
    "HISTORY",
    "API_CONFIGURABLE",
    "PRIORITY_FIRST_SYNC",
    "FIVETRAN_DATA_MODELS",
    "PRIVATE_NETWORKING",
)
