"""A real Kubernetes control plane for tests: etcd and kube-apiserver on 127.0.0.1, as controller-runtime's envtest
starts them (pkg/internal/testing/controlplane), with certificates made here.

    with ControlPlane() as cp:
        cp.url, cp.kubeconfig, cp.ca_file, cp.cert_file, cp.key_file
        cp.session().get(cp.url + "/api/v1/namespaces")

- etcd: one member, client and peer on free 127.0.0.1 ports, data in the temp dir, ``--unsafe-no-fsync``.
- kube-apiserver: serving certificate for 127.0.0.1/localhost signed by a CA made here (``ca_file``);
  ``--client-ca-file`` the same CA, which also signs the admin client certificate (CN=admin, O=system:masters:
  ``cert_file``/``key_file``, and embedded in ``kubeconfig``, context ``inferstack-e2e``);
  ``--authorization-mode=RBAC``; service-account issuer, verification and signing keys; PodSecurity admission (on by
  default in 1.35, also named in ``--enable-admission-plugins``); ``--disable-admission-plugins=ServiceAccount`` as
  envtest does (no controller-manager creates the ``default`` ServiceAccount); ``--allow-privileged=true``;
  ``--service-cluster-ip-range=10.0.0.0/24``. Ready when ``/readyz`` answers ``ok``.
- ``stop()`` terminates both processes (SIGTERM, then SIGKILL after a timeout), waits for them and removes the temp
  dir: nothing is left behind. A failed ``start()`` cleans up the same way and raises with the tail of the logs.

Binaries: ``etcd`` and ``kube-apiserver`` from ``tests/e2e/tools.py`` (``$KUBEBUILDER_ASSETS``, ``.tools/bin``, PATH).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.e2e.tools import tool_path

CONTEXT = "inferstack-e2e"
#: The admin user of the kubeconfig: a client certificate in group system:masters (bound to cluster-admin).
ADMIN_USER = "admin"
ADMIN_GROUP = "system:masters"
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"


class ControlPlaneError(RuntimeError):
    """etcd or kube-apiserver did not start (the message carries the tail of its log)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (as envtest's addr.Suggest: bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ certificates


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def make_ca(cn: str = "inferstack-e2e-ca") -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    cert = (
        _builder(_name(cn), _name(cn), key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_leaf(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    cn: str,
    *,
    org: str | None = None,
    server: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A certificate signed by ``ca``: a serving one for 127.0.0.1/localhost (``server``) or a client one."""
    ca_cert, ca_key = ca
    key = _key()
    b = (
        _builder(_name(cn, org), ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    )
    if server:
        b = b.add_extension(
            x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.DNSName("localhost"),
                x509.DNSName("kubernetes.default.svc"),
            ]),
            critical=False,
        )
    return b.sign(ca_key, hashes.SHA256()), key


# ------------------------------------------------------------------ the control plane


class ControlPlane:
    """etcd + kube-apiserver on 127.0.0.1 free ports in a temp dir; ``start()``/``stop()`` or ``with``."""

    def __init__(
        self,
        etcd: Path | str | None = None,
        kube_apiserver: Path | str | None = None,
        *,
        start_timeout: float = 90.0,
        stop_timeout: float = 20.0,
        extra_apiserver_args: tuple[str, ...] = (),
    ) -> None:
        self._etcd_bin = Path(etcd) if etcd else None
        self._apiserver_bin = Path(kube_apiserver) if kube_apiserver else None
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.extra_apiserver_args = tuple(extra_apiserver_args)
        self.dir: Path | None = None
        self.url = ""
        self.etcd_url = ""
        self.kubeconfig = ""
        self.ca_file = ""
        self.cert_file = ""
        self.key_file = ""
        self._etcd: subprocess.Popen[bytes] | None = None
        self._apiserver: subprocess.Popen[bytes] | None = None

    # -- lifecycle

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def pids(self) -> list[int]:
        """The process ids of etcd and kube-apiserver (while started)."""
        return [p.pid for p in (self._etcd, self._apiserver) if p is not None]

    def start(self) -> ControlPlane:
        if self.dir is not None:
            raise ControlPlaneError("control plane already started")
        etcd_bin, apiserver_bin = self._binaries()
        self.dir = Path(tempfile.mkdtemp(prefix="inferstack-e2e-"))
        try:
            self._write_certs()
            # A port found free may be taken before the process binds it (envtest has the same race): retry.
            for attempt in range(3):
                try:
                    self._start_etcd(etcd_bin)
                    self._start_apiserver(apiserver_bin)
                    break
                except ControlPlaneError as err:
                    if "address already in use" not in str(err) or attempt == 2:
                        raise
                    self._kill_processes()
            self._write_kubeconfig()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate kube-apiserver then etcd, wait for both, remove the temp dir. Safe to call twice."""
        self._kill_processes()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # -- clients

    def session(self) -> requests.Session:
        """A requests session authenticated as the admin (client certificate) that verifies the serving cert."""
        s = requests.Session()
        # Not the environment's CA bundle or proxies: REQUESTS_CA_BUNDLE would override `verify` (psf/requests#3829).
        s.trust_env = False
        s.cert = (self.cert_file, self.key_file)
        s.verify = self.ca_file
        return s

    # -- internals

    def _binaries(self) -> tuple[Path, Path]:
        return self._etcd_bin or tool_path("etcd"), self._apiserver_bin or tool_path("kube-apiserver")

    def _path(self, name: str) -> Path:
        assert self.dir is not None
        return self.dir / name

    def _write_certs(self) -> None:
        ca = make_ca()
        serving = make_leaf(ca, "kube-apiserver", server=True)
        admin = make_leaf(ca, ADMIN_USER, org=ADMIN_GROUP)
        sa_key = _key()
        files = {
            "ca.crt": _cert_pem(ca[0]),
            "apiserver.crt": _cert_pem(serving[0]),
            "apiserver.key": _key_pem(serving[1]),
            "admin.crt": _cert_pem(admin[0]),
            "admin.key": _key_pem(admin[1]),
            "sa.key": _key_pem(sa_key),
            "sa.pub": sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        }
        for name, data in files.items():
            path = self._path(name)
            path.write_bytes(data)
            path.chmod(0o600)
        self.ca_file = str(self._path("ca.crt"))
        self.cert_file = str(self._path("admin.crt"))
        self.key_file = str(self._path("admin.key"))

    def _spawn(self, args: list[str], log: str) -> subprocess.Popen[bytes]:
        with open(self._path(log), "wb") as out:
            # Own session: a Ctrl-C to pytest reaches us, not the children; stop() ends them itself.
            return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, cwd=self.dir)

    def _log_tail(self, log: str, lines: int = 30) -> str:
        try:
            text = self._path(log).read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _wait(self, proc: subprocess.Popen[bytes], log: str, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ControlPlaneError(f"{what} exited with {proc.returncode}:\n{self._log_tail(log)}")
            try:
                if ready():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise ControlPlaneError(f"{what} not ready after {self.start_timeout:.0f} s:\n{self._log_tail(log)}")

    def _start_etcd(self, binary: Path) -> None:
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client}"
        data = self._path("etcd-data")
        shutil.rmtree(data, ignore_errors=True)
        self._etcd = self._spawn(
            [
                str(binary),
                "--name=inferstack-e2e",
                f"--data-dir={data}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster=inferstack-e2e=http://127.0.0.1:{peer}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
            "etcd.log",
        )

        def healthy() -> bool:
            r = requests.get(self.etcd_url + "/health", timeout=2)
            return r.status_code == 200 and r.json().get("health") == "true"

        self._wait(self._etcd, "etcd.log", "etcd", healthy)

    def _start_apiserver(self, binary: Path) -> None:
        port = free_port()
        self.url = f"https://127.0.0.1:{port}"
        self._apiserver = self._spawn(
            [
                str(binary),
                f"--etcd-servers={self.etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={self._path('apiserver-certs')}",
                f"--tls-cert-file={self._path('apiserver.crt')}",
                f"--tls-private-key-file={self._path('apiserver.key')}",
                f"--client-ca-file={self.ca_file}",
                "--authorization-mode=RBAC",
                f"--service-account-issuer={self.url}/",
                f"--service-account-key-file={self._path('sa.pub')}",
                f"--service-account-signing-key-file={self._path('sa.key')}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                "--allow-privileged=true",
                "--enable-admission-plugins=PodSecurity",
                "--disable-admission-plugins=ServiceAccount",
                *self.extra_apiserver_args,
            ],
            "kube-apiserver.log",
        )
        session = self.session()

        def ready() -> bool:
            r = session.get(self.url + "/readyz", timeout=5)
            return r.status_code == 200 and r.text.strip() == "ok"

        try:
            self._wait(self._apiserver, "kube-apiserver.log", "kube-apiserver", ready)
        finally:
            session.close()

    def _write_kubeconfig(self) -> None:
        def b64(path: str) -> str:
            return base64.b64encode(Path(path).read_bytes()).decode()

        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": CONTEXT, "cluster": {"server": self.url, "certificate-authority-data": b64(self.ca_file)}}],
            "users": [{"name": CONTEXT, "user": {"client-certificate-data": b64(self.cert_file),
                                                  "client-key-data": b64(self.key_file)}}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}],
            "current-context": CONTEXT,
        }
        path = self._path("kubeconfig")
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        path.chmod(0o600)
        self.kubeconfig = str(path)

    def _kill_processes(self) -> None:
        for attr in ("_apiserver", "_etcd"):
            proc: subprocess.Popen[bytes] | None = getattr(self, attr)
            if proc is None:
                continue
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            setattr(self, attr, None)


def process_alive(pid: int) -> bool:
    """True while a process with this id exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
