/** Temporary home folders and files for the configuration tests. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export class TempHome {
  readonly dir = mkdtempSync(join(tmpdir(), 'clearml-cfg-'));

  write(name: string, text: string): string {
    const path = join(this.dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What `clearml-init` writes: its header, then `sdk ` and a (shortened) copy of the default SDK section. */
export const CLEARML_INIT_FILE = `# ClearML SDK configuration file
api {
    # Notice: 'host' is the api server (default port 8008), not the web server.
    api_server: http://clearml.local:8008
    web_server: http://clearml.local:8080
    files_server: http://clearml.local:8081
    # Credentials are generated using the webapp, http://clearml.local:8080/settings
    # Override with os environment: CLEARML_API_ACCESS_KEY / CLEARML_API_SECRET_KEY
    credentials {"access_key": "ABCDEFGHIJ0123456789", "secret_key": "s3cr3t-V4lue-From-The-W3bapp-xyzQ"}
}
sdk {
    // the SDK section, as copied from the default configuration
    storage {
        cache {
            default_base_dir: "~/.clearml/cache"
            size {
                max_used_bytes = -1
                min_free_bytes = 10GB
            }
        }
        direct_access: [
            { url: "file://*" }  # file-urls are always directly referenced
        ]
        http.legacy_fileservers: []
    }
    metrics {
        file_history_size: 100
        images {
            format: JPEG
            quality: 87
        }
    }
    aws {
        s3 {
            region: "us-east-1"
            key: "AKIADEFAULTKEY000001"
            secret: "default-aws-secret-0000000000000001"
            use_credentials_chain: false
            extra_args: {}
            credentials: [
                {
                    bucket: "ml-artifacts"
                    key: "AKIABUCKETKEY0000002"
                    secret: "bucket-aws-secret-000000000000002"
                    region: eu-west-1
                },
                {
                    # every bucket of this MinIO server
                    host: minio.local:9000
                    key: "12345678"
                    secret: "minio-secret-00000000003"
                    multipart: false
                    secure: false
                }
            ]
        }
        boto3 {
            pool_connections: 512
            multipart_threshold: 8388608 # 8MB
        }
    }
    google.storage {
        project: "ml-project"
        credentials_json: "/secrets/gcs.json"
        credentials = [
            {
                bucket: "gcs-bucket"
                subdir: "path/in/bucket"
                project: "other-project"
                credentials_json: "/secrets/other.json"
            },
        ]
    }
    azure.storage {
        containers: [
            {
                account_name: "mystorageacct"
                account_key: "azure-account-key-0000000000000004=="
                container_name: "models"
            }
        ]
    }
    development {
        default_output_uri: ""
        worker {
            report_period_sec: 2
        }
    }
}
`;

/** What clearml-agent writes for a task (json.dumps(config, indent=4)), trimmed to the parts we read. */
export const AGENT_JSON_FILE = JSON.stringify(
  {
    agent: { worker_id: '', worker_name: 'vm', docker_pip_cache: '~/.clearml/pip-cache' },
    api: {
      api_server: 'http://10.0.0.5:8008',
      host: 'http://10.0.0.5:8008',
      web_server: 'http://10.0.0.5:8080',
      files_server: 'http://10.0.0.5:8081',
      credentials: { access_key: 'AGENTACCESSKEY000001', secret_key: 'agent-secret-key-value-0000001' },
      verify_certificate: false,
      http: { max_req_size: 15728640, retries: { total: 240 } },
      auth: { token_expiration_threshold_sec: 360 },
    },
    sdk: {
      aws: {
        s3: {
          key: '',
          secret: '',
          region: '',
          credentials: [{ bucket: 'agent-bucket', host: '10.0.0.6:9000', key: 'k', secret: 'agent-s3-secret-0001', secure: false }],
        },
        boto3: { pool_connections: 512 },
      },
      google: { storage: {} },
      azure: { storage: {} },
      development: { default_output_uri: '' },
    },
    env: 'default',
    logging: { version: 1 },
  },
  null,
  4,
);
