"""The control-plane fixture itself: a real API server answers, authenticates the admin, runs PodSecurity
admission, and stop() leaves no process and no temp dir behind."""

from __future__ import annotations

import yaml

from tests.e2e.controlplane import CONTEXT, ControlPlane, process_alive


def test_start_create_namespace_stop_leaves_nothing_behind() -> None:
    cp = ControlPlane().start()
    try:
        pids, tmp = cp.pids, cp.dir
        assert len(pids) == 2 and all(process_alive(p) for p in pids)
        s = cp.session()
        version = s.get(cp.url + "/version", timeout=10).json()
        assert (version["major"], version["minor"]) == ("1", "35") and version["gitVersion"].startswith("v1.35.")
        # The admin is in system:masters.
        review = s.post(cp.url + "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                        json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}, timeout=10)
        assert review.status_code == 201, review.text
        user = review.json()["status"]["userInfo"]
        assert user["username"] == "admin" and "system:masters" in user["groups"]
        r = s.post(cp.url + "/api/v1/namespaces",
                   json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "e2e-fixture"}}, timeout=10)
        assert r.status_code == 201, r.text
        assert s.get(cp.url + "/api/v1/namespaces/e2e-fixture", timeout=10).json()["status"]["phase"] == "Active"
        kubeconfig = yaml.safe_load(open(cp.kubeconfig))
        assert kubeconfig["current-context"] == CONTEXT
        assert kubeconfig["clusters"][0]["cluster"]["server"] == cp.url
        s.close()
    finally:
        cp.stop()
    assert not any(process_alive(p) for p in pids)
    assert not tmp.exists()
    assert cp.dir is None


def test_pod_security_admission_is_on(control_plane: ControlPlane) -> None:
    """A privileged pod in a namespace enforcing `restricted` is refused by PodSecurity admission."""
    s = control_plane.session()
    ns = {"apiVersion": "v1", "kind": "Namespace",
          "metadata": {"name": "e2e-psa", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}
    assert s.post(control_plane.url + "/api/v1/namespaces", json=ns, timeout=10).status_code == 201
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "busybox", "securityContext": {"privileged": True}}]}}
    r = s.post(control_plane.url + "/api/v1/namespaces/e2e-psa/pods", json=pod, timeout=10)
    assert r.status_code == 403, r.text
    assert 'violates PodSecurity "restricted:latest"' in r.json()["message"]
