#!/usr/bin/env bash
# Run once by the postgres image on an empty data directory
# (/docker-entrypoint-initdb.d): a role and a database per service, each role
# owning only its database (DESIGN.md §3: each service owns its data). The
# services' URLs in deploy/compose.yaml name these roles and databases.
set -euo pipefail
: "${SERVICE_DB_PASSWORD:?the password of the service roles, from deploy/.env}"
for service in plan kpi notification; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="suishin_$service" -v password="$SERVICE_DB_PASSWORD" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
