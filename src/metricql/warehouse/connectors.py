"""Open a driver connection from a dbt profile target, reading its fields as the dbt adapter does.

One function per adapter: `(driver module, settings, read_only) → DB-API connection`. Field
names and defaults follow dbt-postgres, dbt-redshift, dbt-snowflake, dbt-bigquery,
dbt-databricks, dbt-spark (thrift, http), dbt-trino, dbt-athena and dbt-clickhouse (http).
Secrets are passed to the driver and nowhere else.
"""

from __future__ import annotations

import base64
import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from metricql.errors import MissingDependencyError, WarehouseError
from metricql.warehouse.arrow import has_pyarrow

Settings = Mapping[str, Any]
Connect = Callable[[ModuleType, Settings, bool], Any]


def present(**kwargs: Any) -> dict[str, Any]:
    """The keyword arguments that have a value (drivers keep their own defaults)."""
    return {k: v for k, v in kwargs.items() if v is not None}


def first(settings: Settings, *names: str, default: Any = None) -> Any:
    """The value of the first of `names` set in the profile (dbt accepts aliases)."""
    return next((settings[n] for n in names if settings.get(n) is not None), default)


def postgres(psycopg: ModuleType, s: Settings, read_only: bool) -> Any:
    """psycopg 3, autocommit; read-only sessions through `default_transaction_read_only`."""
    options = ["-c default_transaction_read_only=on"] if read_only else []
    if s.get("search_path"):
        path = str(s["search_path"]).replace("\\", "\\\\").replace(" ", "\\ ")
        options.append(f"-c search_path={path}")
    connection = psycopg.connect(
        **present(
            host=s.get("host"),
            port=s.get("port", 5432),
            user=s.get("user"),
            password=first(s, "password", "pass"),
            dbname=first(s, "dbname", "database"),
            connect_timeout=s.get("connect_timeout", 10),
            sslmode=s.get("sslmode"),
            sslcert=s.get("sslcert"),
            sslkey=s.get("sslkey"),
            sslrootcert=s.get("sslrootcert"),
            application_name=s.get("application_name", "metricql"),
            keepalives_idle=s.get("keepalives_idle") or None,  # dbt's 0 means "not set"
            options=" ".join(options) or None,
        ),
        autocommit=True,
    )
    if s.get("role"):
        sql = psycopg.sql
        connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(str(s["role"]))))
    return connection


def redshift(redshift_connector: ModuleType, s: Settings, read_only: bool) -> Any:
    """redshift_connector, autocommit; `method: iam` asks IAM for temporary credentials."""
    sslmode = str(s.get("sslmode", "prefer"))
    kwargs = present(
        host=s.get("host"),
        port=s.get("port", 5439),
        database=first(s, "dbname", "database"),
        timeout=s.get("connect_timeout"),
        region=s.get("region"),
        application_name="metricql",
        ssl=sslmode != "disable",
        sslmode=sslmode if sslmode.startswith("verify") else None,
    )
    if s.get("method", "database") == "iam":
        kwargs.update(
            present(
                iam=True,
                db_user=s.get("user"),
                user="",
                password="",
                cluster_identifier=s.get("cluster_id"),
                profile=s.get("iam_profile"),
                auto_create=s.get("autocreate"),
                db_groups=s.get("db_groups"),
            )
        )
    else:
        kwargs.update(present(user=s.get("user"), password=first(s, "password", "pass")))
    connection = redshift_connector.connect(**kwargs)
    connection.autocommit = True
    return connection


def snowflake(connector: ModuleType, s: Settings, read_only: bool) -> Any:
    """snowflake-connector-python: password, key pair (`private_key_path` / `private_key`),
    OAuth (`authenticator: oauth` + `token`) or any other `authenticator` (externalbrowser …)."""
    kwargs = present(
        account=s.get("account"),
        user=s.get("user"),
        database=s.get("database"),
        schema=s.get("schema"),
        warehouse=s.get("warehouse"),
        role=s.get("role"),
        host=s.get("host"),
        port=s.get("port"),
        protocol=s.get("protocol"),
        login_timeout=s.get("connect_timeout"),
        client_session_keep_alive=s.get("client_session_keep_alive"),
        insecure_mode=s.get("insecure_mode"),
        application="metricql",
        session_parameters={"QUERY_TAG": s["query_tag"]} if s.get("query_tag") else None,
    )
    authenticator = s.get("authenticator")
    if s.get("private_key_path") or s.get("private_key"):
        kwargs["private_key"] = _der_private_key(s)
    elif authenticator == "oauth":
        kwargs.update(authenticator="oauth", token=s.get("token"))
    else:
        kwargs.update(present(authenticator=authenticator, password=s.get("password")))
    return connector.connect(**kwargs)


def _der_private_key(s: Settings) -> bytes:
    """The key pair's private key as DER bytes, as dbt-snowflake passes it."""
    serialization = _module("cryptography.hazmat.primitives.serialization", "snowflake")
    passphrase = s.get("private_key_passphrase")
    password = str(passphrase).encode() if passphrase else None
    if s.get("private_key_path"):
        with open(str(s["private_key_path"]), "rb") as file:
            data = file.read()
    else:
        data = str(s["private_key"]).encode()
    if b"-----BEGIN" in data:
        key = serialization.load_pem_private_key(data, password=password)
    else:  # base64 of the DER form, as dbt-snowflake also accepts
        key = serialization.load_der_private_key(base64.b64decode(data), password=password)
    der: bytes = key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    return der


def bigquery(bq: ModuleType, s: Settings, read_only: bool) -> Any:
    """google-cloud-bigquery's DB-API over a Client; `method` picks the credentials."""
    job = bq.QueryJobConfig(
        **present(
            maximum_bytes_billed=s.get("maximum_bytes_billed"),
            priority=str(s["priority"]).upper() if s.get("priority") else None,
            job_timeout_ms=int(float(s["job_execution_timeout_seconds"]) * 1000)
            if s.get("job_execution_timeout_seconds")
            else None,
        )
    )
    client = bq.Client(
        project=first(s, "execution_project", "project", "database"),
        credentials=_google_credentials(s),
        location=s.get("location"),
        default_query_job_config=job,
    )
    return _module("google.cloud.bigquery.dbapi", "bigquery").connect(client=client)


_BIGQUERY_SCOPES = (
    "https://www.googleapis.com/auth/bigquery",
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/drive",
)


def _google_credentials(s: Settings) -> Any:
    scopes = list(s.get("scopes") or _BIGQUERY_SCOPES)
    method = s.get("method", "oauth")
    if method == "service-account":
        account = _module("google.oauth2.service_account", "bigquery")
        creds = account.Credentials.from_service_account_file(str(s["keyfile"]), scopes=scopes)
    elif method == "service-account-json":
        account = _module("google.oauth2.service_account", "bigquery")
        creds = account.Credentials.from_service_account_info(
            dict(s["keyfile_json"]), scopes=scopes
        )
    elif method == "oauth-secrets":
        oauth = _module("google.oauth2.credentials", "bigquery")
        creds = oauth.Credentials(
            **present(
                token=s.get("token"),
                refresh_token=s.get("refresh_token"),
                client_id=s.get("client_id"),
                client_secret=s.get("client_secret"),
                token_uri=s.get("token_uri"),
                scopes=scopes,
            )
        )
    else:  # oauth: gcloud's application-default credentials
        creds, _ = _module("google.auth", "bigquery").default(scopes=scopes)
    if s.get("impersonate_service_account"):
        impersonated = _module("google.auth.impersonated_credentials", "bigquery")
        creds = impersonated.Credentials(
            source_credentials=creds,
            target_principal=s["impersonate_service_account"],
            target_scopes=scopes,
        )
    return creds


def databricks(dbsql: ModuleType, s: Settings, read_only: bool) -> Any:
    """databricks-sql-connector: a personal access `token`, or `auth_type: oauth`
    (with `client_id`/`client_secret`: a service principal through databricks-sdk)."""
    kwargs = present(
        server_hostname=s.get("host"),
        http_path=s.get("http_path"),
        catalog=first(s, "catalog", "database"),
        schema=s.get("schema"),
        session_configuration=s.get("session_properties"),
        user_agent_entry="metricql",
        **dict(s.get("connection_parameters") or {}),
    )
    if s.get("token"):
        kwargs["access_token"] = s["token"]
    elif s.get("client_secret"):
        sdk = _module("databricks.sdk.core", "databricks")
        config = sdk.Config(
            host=f"https://{s['host']}",
            client_id=s.get("client_id"),
            client_secret=s["client_secret"],
        )
        kwargs["credentials_provider"] = lambda: sdk.oauth_service_principal(config)
    elif s.get("auth_type") == "oauth":
        kwargs.update(present(auth_type="databricks-oauth", oauth_client_id=s.get("client_id")))
    return dbsql.connect(**kwargs)


def spark_thrift(hive: ModuleType, s: Settings, read_only: bool) -> Any:
    """PyHive, as dbt-spark's `thrift` and `http` methods connect."""
    if s.get("method") == "http":
        return hive.connect(thrift_transport=_spark_http_transport(s))
    if s.get("use_ssl"):
        raise WarehouseError(
            "`use_ssl: true` with `method: thrift` is not supported by metricql yet",
            hint="use `method: http`, or a `databricks` target for Databricks",
        )
    return hive.connect(
        **present(
            host=s.get("host"),
            port=s.get("port", 10001),
            username=s.get("user"),
            auth=s.get("auth"),
            kerberos_service_name=s.get("kerberos_service_name"),
            password=s.get("password"),
            configuration=s.get("server_side_parameters"),
        )
    )


def _spark_http_transport(s: Settings) -> Any:
    http = _module("thrift.transport.THttpClient", "spark-thrift")
    organization, cluster = s.get("organization", "0"), s.get("cluster", "")
    path = s.get("endpoint") and f"/sql/1.0/endpoints/{s['endpoint']}"
    url = f"https://{s.get('host')}:{s.get('port', 443)}" + (
        path or f"/sql/protocolv1/o/{organization}/{cluster}"
    )
    transport = http.THttpClient(url)
    token = base64.standard_b64encode(f"token:{s.get('token', '')}".encode()).decode()
    transport.setCustomHeaders({"Authorization": f"Basic {token}"})
    return transport


def trino(trino_module: ModuleType, s: Settings, read_only: bool) -> Any:
    """trino's DB-API; `method` picks the authentication (none, ldap, jwt, certificate, oauth,
    kerberos)."""
    method = str(s.get("method", "none"))
    scheme = s.get("http_scheme", "http" if method == "none" else "https")
    auth = _trino_auth(_module("trino.auth", "trino"), method, s)
    return _module("trino.dbapi", "trino").connect(
        **present(
            host=s.get("host"),
            port=s.get("port", 8080 if scheme == "http" else 443),
            user=first(s, "impersonation_user", "user"),
            catalog=s.get("database"),
            schema=s.get("schema"),
            http_scheme=scheme,
            auth=auth,
            session_properties=s.get("session_properties"),
            roles=s.get("roles"),
            verify=s.get("cert"),
            timezone=s.get("timezone"),
            source="metricql",
        )
    )


def _trino_auth(auth: ModuleType, method: str, s: Settings) -> Any:
    builders: dict[str, Callable[[], Any]] = {
        "none": lambda: None,
        "ldap": lambda: auth.BasicAuthentication(s.get("user"), s.get("password")),
        "jwt": lambda: auth.JWTAuthentication(s.get("jwt_token")),
        "certificate": lambda: auth.CertificateAuthentication(
            s.get("client_certificate"), s.get("client_private_key")
        ),
        "oauth": lambda: auth.OAuth2Authentication(),
        "oauth_console": lambda: auth.OAuth2Authentication(),
        "kerberos": lambda: auth.KerberosAuthentication(
            **present(
                config=s.get("krb5_config"),
                service_name=s.get("service_name", "trino"),
                principal=s.get("principal"),
                hostname_override=s.get("hostname_override"),
            )
        ),
    }
    if method not in builders:
        raise WarehouseError(
            f"trino `method: {method}` is not one metricql knows",
            hint=f"use one of: {', '.join(builders)}",
        )
    return builders[method]()


def athena(pyathena: ModuleType, s: Settings, read_only: bool) -> Any:
    """PyAthena; results through its ArrowCursor when pyarrow is installed."""
    kwargs = present(
        s3_staging_dir=s.get("s3_staging_dir"),
        region_name=s.get("region_name"),
        schema_name=s.get("schema"),
        catalog_name=s.get("database", "awsdatacatalog"),
        work_group=s.get("work_group"),
        profile_name=s.get("aws_profile_name"),
        aws_access_key_id=s.get("aws_access_key_id"),
        aws_secret_access_key=s.get("aws_secret_access_key"),
        aws_session_token=s.get("aws_session_token"),
        poll_interval=s.get("poll_interval"),
    )
    if has_pyarrow():
        kwargs["cursor_class"] = _module("pyathena.arrow.cursor", "athena").ArrowCursor
    return pyathena.connect(**kwargs)


def clickhouse(clickhouse_connect: ModuleType, s: Settings, read_only: bool) -> Any:
    """clickhouse-connect (dbt-clickhouse's default `driver: http`); read-only as `readonly=2`
    (no writes, settings such as the query timeout may still change)."""
    if s.get("driver", "http") != "http":
        raise WarehouseError(
            f"clickhouse `driver: {s.get('driver')}` is not supported by metricql",
            hint="use `driver: http` (clickhouse-connect)",
        )
    settings = dict(s.get("custom_settings") or {})
    if read_only:
        settings["readonly"] = 2
    secure = bool(s.get("secure", False))
    return _module("clickhouse_connect.dbapi", "clickhouse").connect(
        **present(
            host=s.get("host", "localhost"),
            port=s.get("port", 8443 if secure else 8123),
            username=s.get("user", "default"),
            password=s.get("password", ""),
            database=s.get("schema"),
            secure=secure,
            verify=s.get("verify"),
            connect_timeout=s.get("connect_timeout"),
            send_receive_timeout=s.get("send_receive_timeout"),
            compress=s.get("compression"),
            settings=settings or None,
        )
    )


def _module(name: str, extra: str) -> ModuleType:
    """A driver's submodule; MissingDependencyError naming the extra when absent."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise MissingDependencyError(
            f"{name} is not installed", hint=f"pip install 'metricql[{extra}]'"
        ) from None
