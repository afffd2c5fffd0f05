"""GCP data services and VMs: CMEK at rest over the whole family, TLS in transit, public database endpoints,
deletion protection in prod, VM hardening. A compliant fixture passes and one changed field violates (harness of
tests/policies/test_rules.py)."""

from __future__ import annotations

from inferstack.engine import UNKNOWN
from inferstack.policies import families
from inferstack.policies.rules.gcp_data import cmek_problems
from inferstack.policies.rules.gcp_paths import segments
from tests.policies.test_rules import DELETE, GCP_KEY, Case, Res, _findings, case_tests, one

VPC = "projects/p/global/networks/inference"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
#: A Cloud SQL instance as CIS GCP 6.x wants it: private IP only, TLS only, CMEK, backups, deletion protection.
SQL_PROPS = {"databaseVersion": "POSTGRES_16", "region": "europe-west4", "encryptionKeyName": GCP_KEY,
             "deletionProtection": True,
             "settings": {"tier": "db-custom-2-7680", "deletionProtectionEnabled": True,
                          "backupConfiguration": {"enabled": True, "pointInTimeRecoveryEnabled": True},
                          "ipConfiguration": {"ipv4Enabled": False, "privateNetwork": VPC, "sslMode": "ENCRYPTED_ONLY"},
                          "databaseFlags": [{"name": "log_connections", "value": "on"},
                                            {"name": "log_disconnections", "value": "on"}]}}
MYSQL_PROPS = {**SQL_PROPS, "databaseVersion": "MYSQL_8_0", "settings": {**SQL_PROPS["settings"], "databaseFlags": [
    {"name": "skip_show_database", "value": "on"}, {"name": "local_infile", "value": "off"}]}}
REDIS = {"memorySizeGb": 1, "tier": "STANDARD_HA", "authEnabled": True, "transitEncryptionMode": "SERVER_AUTHENTICATION",
         "customerManagedKey": GCP_KEY, "authorizedNetwork": VPC, "connectMode": "PRIVATE_SERVICE_ACCESS"}
REDIS_CLUSTER = {"shardCount": 3, "transitEncryptionMode": "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION",
                 "authorizationMode": "AUTH_MODE_IAM_AUTH", "kmsKey": GCP_KEY, "deletionProtectionEnabled": True}
MEMORYSTORE = {"instanceId": "cache", "shardCount": 1, "transitEncryptionMode": "SERVER_AUTHENTICATION",
               "authorizationMode": "IAM_AUTH", "kmsKey": GCP_KEY, "deletionProtectionEnabled": True}
ALLOY_CLUSTER = {"clusterId": "vectors", "networkConfig": {"network": VPC}, "encryptionConfig": {"kmsKeyName": GCP_KEY},
                 "automatedBackupPolicy": {"enabled": True, "encryptionConfig": {"kmsKeyName": GCP_KEY}},
                 "deletionProtection": True}
ALLOY_INSTANCE = {"instanceType": "PRIMARY", "cluster": "vectors",
                  "clientConnectionConfig": {"requireConnectors": False, "sslConfig": {"sslMode": "ENCRYPTED_ONLY"}},
                  "networkConfig": {"enablePublicIp": False}}
ENC = {"encryptionSpec": {"kmsKeyName": GCP_KEY}}
VERTEX = {t: ENC for t in ("gcp:vertex/aiIndex:AiIndex", "gcp:vertex/aiEndpoint:AiEndpoint",
                           "gcp:vertex/aiFeatureStore:AiFeatureStore", "gcp:vertex/aiIndexEndpoint:AiIndexEndpoint")}
DISK = {"zone": "europe-west4-a", "size": 100, "type": "pd-balanced", "diskEncryptionKey": {"kmsKeySelfLink": GCP_KEY}}
VM = {"machineType": "e2-standard-4", "zone": "europe-west4-a",
      "bootDisk": {"initializeParams": {"image": "cos-cloud/cos-stable"}, "kmsKeySelfLink": GCP_KEY},
      "attachedDisks": [{"source": "data-disk", "kmsKeySelfLink": GCP_KEY}],
      "networkInterfaces": [{"subnetwork": "projects/p/regions/europe-west4/subnetworks/inference"}],
      "metadata": {"enable-oslogin": "TRUE", "block-project-ssh-keys": "true", "serial-port-enable": "false"},
      "canIpForward": False, "deletionProtection": True,
      "serviceAccount": {"email": "vm@p.iam.gserviceaccount.com", "scopes": ["https://www.googleapis.com/auth/cloud-platform"]},
      "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True}}
TEMPLATE = {"machineType": "e2-standard-4",
            "disks": [{"boot": True, "sourceImage": "cos-cloud/cos-stable", "diskEncryptionKey": {"kmsKeySelfLink": GCP_KEY}}],
            "networkInterfaces": [{"subnetwork": "inference"}],
            "metadata": {"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE"},
            "serviceAccount": {"email": "vm@p.iam.gserviceaccount.com", "scopes": ["cloud-platform"]}}
INSTANCE = "gcp:compute/instance:Instance"
DNS_ZONE = {"dnsName": "example.com.", "visibility": "public", "dnssecConfig": {"state": "on", "defaultKeySpecs": [
    {"algorithm": "rsasha256", "keyType": "keySigning", "keyLength": 2048},
    {"algorithm": "rsasha256", "keyType": "zoneSigning", "keyLength": 1024}]}}
REDIRECT_MAP = Res("gcp:compute/uRLMap:URLMap", {"name": "http-redirect", "defaultUrlRedirect": {
    "httpsRedirect": True, "stripQuery": False, "redirectResponseCode": "MOVED_PERMANENTLY_DEFAULT"}}, name="http-redirect")
HTTP_PROXY = Res("gcp:compute/targetHttpProxy:TargetHttpProxy", {"name": "http", "urlMap": "http-redirect"}, name="http")
SSL_POLICY = {"name": "modern-tls12", "profile": "MODERN", "minTlsVersion": "TLS_1_2"}
NIC0 = (0, "props", "networkInterfaces", 0)
CMEK = "gcp-cmek-at-rest"
TLS = "gcp-tls-in-transit"
INHERITED = "gcp-cmek-inherited"
BQ_TABLE = "gcp:bigquery/table:Table"
TABLE = {"datasetId": "features", "tableId": "embeddings", "deletionProtection": True}
DATASET_PLAIN = Res("gcp:bigquery/dataset:Dataset", {"datasetId": "features", "location": "europe-west4"}, name="features")
DATASET_CMEK = Res("gcp:bigquery/dataset:Dataset", {"datasetId": "features", "location": "europe-west4",
                                                    "defaultEncryptionConfiguration": {"kmsKeyName": GCP_KEY}}, name="features")

CASES = [
    # ------------------------------------------------------------ CMEK at rest, across the family
    Case("cmek-sql", CMEK, one(SQL, SQL_PROPS), (0, "props", "encryptionKeyName"), DELETE),
    Case("cmek-redis", CMEK, one("gcp:redis/instance:Instance", REDIS), (0, "props", "customerManagedKey"), DELETE),
    Case("cmek-redis-cluster", CMEK, one("gcp:redis/cluster:Cluster", REDIS_CLUSTER), (0, "props", "kmsKey"), DELETE),
    Case("cmek-memorystore", CMEK, one("gcp:memorystore/instance:Instance", MEMORYSTORE), (0, "props", "kmsKey"), DELETE),
    Case("cmek-alloydb", CMEK, one("gcp:alloydb/cluster:Cluster", ALLOY_CLUSTER), (0, "props", "encryptionConfig"), DELETE),
    Case("cmek-alloydb-backups", CMEK, one("gcp:alloydb/cluster:Cluster", ALLOY_CLUSTER),
         (0, "props", "automatedBackupPolicy", "encryptionConfig"), DELETE),
    Case("cmek-spanner", CMEK, one("gcp:spanner/database:Database", {"instance": "i", "encryptionConfig": {"kmsKeyName": GCP_KEY}}),
         (0, "props", "encryptionConfig", "kmsKeyName"), DELETE),
    Case("cmek-spanner-multi-region-keys", CMEK,
         one("gcp:spanner/database:Database", {"instance": "i", "encryptionConfig": {"kmsKeyNames": [GCP_KEY]}}),
         (0, "props", "encryptionConfig", "kmsKeyNames"), []),
    Case("cmek-bigtable-second-cluster", CMEK,
         one("gcp:bigtable/instance:Instance", {"clusters": [{"clusterId": "a", "zone": "europe-west4-a", "kmsKeyName": GCP_KEY},
                                                             {"clusterId": "b", "zone": "europe-west4-b", "kmsKeyName": GCP_KEY}]}),
         (0, "props", "clusters", 1, "kmsKeyName"), DELETE),
    Case("cmek-bq-dataset", CMEK, one("gcp:bigquery/dataset:Dataset", {"datasetId": "features", "location": "europe-west4",
                                                                      "defaultEncryptionConfiguration": {"kmsKeyName": GCP_KEY}}),
         (0, "props", "defaultEncryptionConfiguration"), DELETE),
    Case("cmek-bq-table-own-key", INHERITED, (DATASET_PLAIN, Res(BQ_TABLE, {**TABLE, "encryptionConfiguration": {"kmsKeyName": GCP_KEY}})),
         (1, "props", "encryptionConfiguration", "kmsKeyName"), "", flagged=1),
    Case("cmek-bq-table-dataset-default", INHERITED, (DATASET_CMEK, Res(BQ_TABLE, TABLE)),
         (0, "props", "defaultEncryptionConfiguration"), DELETE, flagged=1),
    Case("cmek-bq-transfer-dataset-default", INHERITED,
         (DATASET_CMEK, Res("gcp:bigquery/dataTransferConfig:DataTransferConfig",
                            {"displayName": "daily", "dataSourceId": "scheduled_query", "destinationDatasetId": "features"})),
         (0, "props", "defaultEncryptionConfiguration", "kmsKeyName"), DELETE, flagged=1),
    Case("cmek-gcs-object-bucket-default", INHERITED,
         (Res("gcp:storage/bucket:Bucket", {"name": "models-1a2b", "location": "EUROPE-WEST4", "encryption": {"defaultKmsKeyName": GCP_KEY}}),
          Res("gcp:storage/bucketObject:BucketObject", {"bucket": "models-1a2b", "name": "config.json", "content": "{}"})),
         (0, "props", "encryption"), DELETE, flagged=1),
    Case("cmek-pubsub", CMEK, one("gcp:pubsub/topic:Topic", {"name": "events", "kmsKeyName": GCP_KEY}), (0, "props", "kmsKeyName"), DELETE),
    Case("cmek-filestore", CMEK, one("gcp:filestore/instance:Instance", {"tier": "ENTERPRISE", "kmsKeyName": GCP_KEY}),
         (0, "props", "kmsKeyName"), DELETE),
    *[Case(f"cmek-{t.split(':')[1].replace('/', '-')}", CMEK, one(t, props), (0, "props", "encryptionSpec"), DELETE)
      for t, props in VERTEX.items()],
    Case("cmek-disk", CMEK, one("gcp:compute/disk:Disk", DISK), (0, "props", "diskEncryptionKey"), DELETE),
    Case("cmek-vm-boot-disk", CMEK, one(INSTANCE, VM), (0, "props", "bootDisk", "kmsKeySelfLink"), DELETE),
    Case("cmek-vm-attached-disk", CMEK, one(INSTANCE, VM), (0, "props", "attachedDisks", 0, "kmsKeySelfLink"), DELETE),
    Case("cmek-template-disk", CMEK, one("gcp:compute/instanceTemplate:InstanceTemplate", TEMPLATE),
         (0, "props", "disks", 0, "diskEncryptionKey"), DELETE),
    # ------------------------------------------------------------ TLS in transit
    Case("tls-sql-allows-plaintext", TLS, one(SQL, SQL_PROPS), (0, "props", "settings", "ipConfiguration", "sslMode"),
         "ALLOW_UNENCRYPTED_AND_ENCRYPTED"),
    Case("tls-sql-unset", TLS, one(SQL, SQL_PROPS), (0, "props", "settings", "ipConfiguration"), DELETE),
    Case("tls-redis", TLS, one("gcp:redis/instance:Instance", REDIS), (0, "props", "transitEncryptionMode"), "DISABLED"),
    Case("tls-redis-unset", TLS, one("gcp:redis/instance:Instance", REDIS), (0, "props", "transitEncryptionMode"), DELETE),
    Case("tls-redis-cluster", TLS, one("gcp:redis/cluster:Cluster", REDIS_CLUSTER), (0, "props", "transitEncryptionMode"),
         "TRANSIT_ENCRYPTION_MODE_DISABLED"),
    Case("tls-memorystore", TLS, one("gcp:memorystore/instance:Instance", MEMORYSTORE), (0, "props", "transitEncryptionMode"),
         "TRANSIT_ENCRYPTION_DISABLED"),
    Case("tls-alloydb", TLS, one("gcp:alloydb/instance:Instance", ALLOY_INSTANCE),
         (0, "props", "clientConnectionConfig", "sslConfig", "sslMode"), "ALLOW_UNENCRYPTED_AND_ENCRYPTED"),
    Case("tls-ssl-policy-compatible", TLS, one("gcp:compute/sSLPolicy:SSLPolicy", SSL_POLICY), (0, "props", "profile"), "COMPATIBLE"),
    Case("tls-ssl-policy-tls10", TLS, one("gcp:compute/regionSslPolicy:RegionSslPolicy", SSL_POLICY),
         (0, "props", "minTlsVersion"), DELETE),
    Case("tls-ssl-policy-custom-weak", TLS,
         one("gcp:compute/sSLPolicy:SSLPolicy", {**SSL_POLICY, "profile": "CUSTOM",
                                                 "customFeatures": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]}),
         (0, "props", "customFeatures", 0), "TLS_RSA_WITH_AES_128_CBC_SHA"),
    Case("tls-https-proxy-default-policy", TLS,
         one("gcp:compute/targetHttpsProxy:TargetHttpsProxy", {"urlMap": "api", "sslCertificates": ["cert"], "sslPolicy": "modern-tls12"}),
         (0, "props", "sslPolicy"), DELETE),
    Case("tls-ssl-proxy-default-policy", TLS,
         one("gcp:compute/targetSSLProxy:TargetSSLProxy", {"backendService": "b", "sslCertificates": ["cert"], "sslPolicy": "modern-tls12"}),
         (0, "props", "sslPolicy"), DELETE),
    Case("tls-app-engine", TLS, one("gcp:appengine/application:Application", {"locationId": "europe-west", "sslPolicy": "MODERN"}),
         (0, "props", "sslPolicy"), "DEFAULT"),
    Case("tls-media-cdn", TLS, one("gcp:networkservices/edgeCacheService:EdgeCacheService", {"requireTls": True}),
         (0, "props", "requireTls"), False),
    Case("http-frontend-serves", "gcp-http-redirects-to-https", (REDIRECT_MAP, HTTP_PROXY), (0, "props", "defaultService"),
         "projects/p/global/backendServices/api", flagged=1),
    Case("http-frontend-no-redirect", "gcp-http-redirects-to-https", (REDIRECT_MAP, HTTP_PROXY),
         (0, "props", "defaultUrlRedirect", "httpsRedirect"), False, flagged=1),
    # ------------------------------------------------------------ public database endpoints
    Case("sql-public-ip", "gcp-db-no-public-ip", one(SQL, SQL_PROPS), (0, "props", "settings", "ipConfiguration", "ipv4Enabled"), True),
    Case("sql-public-ip-default", "gcp-db-no-public-ip", one(SQL, SQL_PROPS),
         (0, "props", "settings", "ipConfiguration", "ipv4Enabled"), DELETE),
    Case("sql-authorized-anywhere", "gcp-db-no-public-ip",
         one(SQL, {**SQL_PROPS, "settings": {**SQL_PROPS["settings"], "ipConfiguration": {
             **SQL_PROPS["settings"]["ipConfiguration"], "authorizedNetworks": [{"name": "office", "value": "203.0.113.0/24"}]}}}),
         (0, "props", "settings", "ipConfiguration", "authorizedNetworks", 0, "value"), "0.0.0.0/0"),
    Case("alloydb-public-ip", "gcp-db-no-public-ip", one("gcp:alloydb/instance:Instance", ALLOY_INSTANCE),
         (0, "props", "networkConfig", "enablePublicIp"), True),
    # ------------------------------------------------------------ Cloud SQL hardening
    Case("sql-no-backups", "gcp-sql-hardening", one(SQL, SQL_PROPS), (0, "props", "settings", "backupConfiguration", "enabled"), False),
    Case("sql-pg-no-log-connections", "gcp-sql-hardening", one(SQL, SQL_PROPS), (0, "props", "settings", "databaseFlags", 0, "value"), "off"),
    Case("sql-pg-no-log-disconnections", "gcp-sql-hardening", one(SQL, SQL_PROPS), (0, "props", "settings", "databaseFlags", 1), DELETE),
    Case("sql-mysql-local-infile", "gcp-sql-hardening", one(SQL, MYSQL_PROPS), (0, "props", "settings", "databaseFlags", 1, "value"), "on"),
    Case("sql-mysql-show-databases", "gcp-sql-hardening", one(SQL, MYSQL_PROPS), (0, "props", "settings", "databaseFlags", 0), DELETE),
    # ------------------------------------------------------------ DNSSEC
    Case("dns-dnssec-off", "gcp-dns-dnssec", one("gcp:dns/managedZone:ManagedZone", DNS_ZONE), (0, "props", "dnssecConfig", "state"), "off"),
    Case("dns-dnssec-unset", "gcp-dns-dnssec", one("gcp:dns/managedZone:ManagedZone", DNS_ZONE), (0, "props", "dnssecConfig"), DELETE),
    Case("dns-rsasha1", "gcp-dns-dnssec", one("gcp:dns/managedZone:ManagedZone", DNS_ZONE),
         (0, "props", "dnssecConfig", "defaultKeySpecs", 0, "algorithm"), "rsasha1"),
    # ------------------------------------------------------------ deletion protection in prod
    Case("delete-sql", "gcp-deletion-protection", one(SQL, SQL_PROPS), (0, "props", "deletionProtection"), False),
    Case("delete-sql-settings", "gcp-deletion-protection", one(SQL, SQL_PROPS),
         (0, "props", "settings", "deletionProtectionEnabled"), False),
    Case("delete-spanner-drop", "gcp-deletion-protection",
         one("gcp:spanner/database:Database", {"instance": "i", "enableDropProtection": True}), (0, "props", "enableDropProtection"), False),
    Case("delete-redis-cluster", "gcp-deletion-protection", one("gcp:redis/cluster:Cluster", REDIS_CLUSTER),
         (0, "props", "deletionProtectionEnabled"), False),
    Case("delete-gke", "gcp-deletion-protection", one("gcp:container/cluster:Cluster", {"deletionProtection": True}),
         (0, "props", "deletionProtection"), False),
    Case("delete-vm", "gcp-deletion-protection", one(INSTANCE, VM), (0, "props", "deletionProtection"), False),
    # ------------------------------------------------------------ VM hardening
    Case("vm-external-ip", "gcp-vm-hardening", one(INSTANCE, VM), NIC0 + ("accessConfigs",), [{"networkTier": "PREMIUM"}]),
    Case("vm-external-ipv6", "gcp-vm-hardening", one(INSTANCE, VM), NIC0 + ("ipv6AccessConfigs",), [{"networkTier": "PREMIUM"}]),
    Case("template-external-ip", "gcp-vm-hardening", one("gcp:compute/regionInstanceTemplate:RegionInstanceTemplate", TEMPLATE),
         NIC0 + ("accessConfigs",), [{}]),
    Case("vm-serial-port", "gcp-vm-hardening", one(INSTANCE, VM), (0, "props", "metadata", "serial-port-enable"), "TRUE"),
    Case("vm-oslogin-off", "gcp-vm-hardening", one(INSTANCE, VM), (0, "props", "metadata", "enable-oslogin"), "FALSE"),
    Case("vm-ip-forward", "gcp-vm-hardening", one(INSTANCE, VM), (0, "props", "canIpForward"), True),
    Case("vm-default-sa", "gcp-vm-hardening", one(INSTANCE, VM), (0, "props", "serviceAccount", "email"),
         "123456789-compute@developer.gserviceaccount.com"),
    Case("vm-default-sa-implicit", "gcp-vm-hardening", one("gcp:compute/instanceTemplate:InstanceTemplate", TEMPLATE),
         (0, "props", "serviceAccount", "email"), DELETE),
    Case("vm-project-ssh-keys", "gcp-vm-hardening", one(INSTANCE, VM), (0, "props", "metadata", "block-project-ssh-keys"), DELETE),
    Case("vm-no-vtpm", "gcp-vm-hardening", one(INSTANCE, VM), (0, "props", "shieldedInstanceConfig", "enableVtpm"), False),
    Case("project-oslogin-missing", "gcp-vm-hardening",
         one("gcp:compute/projectMetadata:ProjectMetadata", {"metadata": {"enable-oslogin": "TRUE"}}),
         (0, "props", "metadata", "enable-oslogin"), DELETE),
    Case("project-serial-port", "gcp-vm-hardening",
         one("gcp:compute/projectMetadata:ProjectMetadata", {"metadata": {"enable-oslogin": "TRUE"}}),
         (0, "props", "metadata", "serial-port-enable"), "true"),
    Case("project-item-oslogin-off", "gcp-vm-hardening",
         one("gcp:compute/projectMetadataItem:ProjectMetadataItem", {"key": "enable-oslogin", "value": "TRUE"}),
         (0, "props", "value"), "FALSE"),
]


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


def test_every_at_rest_member_names_key_paths_and_a_missing_key_is_reported() -> None:
    # the adapter is the generated paths: every member has some, and a resource with none of them set is reported
    members = families.members("gcp-encryption-at-rest")
    assert len(members) > 80
    for token, paths in members.items():
        assert paths, token
        declared = {name: [{}] if lst else {} for name, lst in (segments(p)[0] for p in paths)}
        assert cmek_problems(declared, paths), token


def test_optional_blocks_absent_declare_no_data_of_their_own() -> None:
    # the template judges the disks of a group or of an instance created from it
    assert _findings(one("gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
                         {"baseInstanceName": "w", "versions": [{"instanceTemplate": "t"}]}), CMEK) == []
    assert _findings(one("gcp:compute/instanceFromTemplate:InstanceFromTemplate", {"sourceInstanceTemplate": "t"}), CMEK) == []


def test_unknown_keys_and_blocks_are_not_evaluated_never_passed() -> None:
    for res in (one("gcp:pubsub/topic:Topic", {"kmsKeyName": UNKNOWN}), one("gcp:vertex/aiIndex:AiIndex", {"encryptionSpec": UNKNOWN})):
        found = _findings(res, CMEK)
        assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)]


def test_deletion_protection_off_is_allowed_outside_prod_and_levels_follow_the_environment() -> None:
    res = one(SQL, {**SQL_PROPS, "deletionProtection": False})
    assert _findings(res, "gcp-deletion-protection", environment="dev") == []
    from inferstack.policies.pack import ENTRY_BY_NAME

    for name in (CMEK, TLS, "gcp-deletion-protection"):
        assert ENTRY_BY_NAME[name].level("dev") == "advisory" and ENTRY_BY_NAME[name].level("prod") == "mandatory"


def test_customer_supplied_keys_count_and_source_image_keys_do_not() -> None:
    csek = {**DISK, "diskEncryptionKey": {"rawKey": "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy1sb25nIQ=="}}
    assert _findings(one("gcp:compute/disk:Disk", csek), CMEK) == []
    source_only = {**DISK, "diskEncryptionKey": None, "sourceImageEncryptionKey": {"kmsKeySelfLink": GCP_KEY}}
    assert _findings(one("gcp:compute/disk:Disk", source_only), CMEK)



def test_a_table_whose_dataset_is_not_declared_is_not_evaluated() -> None:
    found = _findings(one(BQ_TABLE, TABLE), INHERITED)
    assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)]
    assert "subject" in found[0].message and "not declared" in found[0].message


def test_private_zones_and_read_replicas_are_not_asked_for_dnssec_or_backups() -> None:
    assert _findings(one("gcp:dns/managedZone:ManagedZone", {"dnsName": "internal.", "visibility": "private"}), "gcp-dns-dnssec") == []
    replica = {**SQL_PROPS, "masterInstanceName": "vectors", "settings": {**SQL_PROPS["settings"], "backupConfiguration": {"enabled": False}}}
    assert _findings(one(SQL, replica), "gcp-sql-hardening") == []


def test_an_http_proxy_whose_url_map_is_not_declared_is_not_evaluated() -> None:
    found = _findings((HTTP_PROXY,), "gcp-http-redirects-to-https")
    assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)]
