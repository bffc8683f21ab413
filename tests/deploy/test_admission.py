"""Admission of signed images (issue 25): k8s/cluster's sigstore ClusterImagePolicies, strictly
valid against the vendored policy-controller CRD, admit every image the overlays run (ours only
when cd.yml on main signed them) and nothing else; the app's Namespaces opt in."""
import re

import pytest

from tests.deploy.manifests import REPO, custom_resource_errors, render, shared_schemas_dir

CRD = "sigstore-policy-controller-clusterimagepolicy-crd.yaml"
CD_IDENTITY = ("https://github.com/example-org/playlist-recs/.github/workflows/cd.yml"
               "@refs/heads/main")


@pytest.fixture(scope="module")
def policies():
    return render(REPO / "k8s" / "cluster")


def crd_errors(obj):
    return custom_resource_errors(obj, shared_schemas_dir() / CRD)


def glob_matches(glob, image):
    """policy-controller's glob: `*` stays inside one path segment, `**` crosses them."""
    pattern = re.escape(glob).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return re.fullmatch(pattern, image) is not None


def admitting(policies, image):
    return [p for p in policies if any(glob_matches(g["glob"], image) for g in p["spec"]["images"])]


def images_of(objects):
    found = set()
    for obj in objects:
        spec = obj.get("spec", {})
        spec = spec.get("jobTemplate", {}).get("spec", spec)
        pod = spec.get("template", {}).get("spec", {})
        found |= {c["image"] for c in pod.get("initContainers", []) + pod.get("containers", [])}
    return found


def test_policies_are_valid_custom_resources_and_cluster_scoped(policies):
    assert [e for obj in policies for e in crd_errors(obj)] == []
    assert all("namespace" not in obj["metadata"] for obj in policies)
    assert all(obj["spec"]["mode"] == "enforce" for obj in policies)


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_image_an_overlay_runs_is_admitted_and_ours_need_cd_signatures(policies, overlay):
    objects = render(REPO / "k8s" / "overlays" / overlay)
    namespace = next(o for o in objects if o["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["policy.sigstore.dev/include"] == "true"
    for image in images_of(objects):
        matched = admitting(policies, image)
        assert matched, f"{image} would be refused (no policy names it)"
        if image.startswith("ghcr.io/example-org/playlist-recs-"):
            [policy] = matched
            [authority] = policy["spec"]["authorities"]
            assert "static" not in authority
        else:
            assert "@sha256:" in image, f"third-party {image} admitted without a digest pin"


def test_only_cd_on_main_signs_for_our_images(policies):
    keyless = next(p for p in policies if p["metadata"]["name"] == "playlist-recs-signed-by-cd")
    [identity] = keyless["spec"]["authorities"][0]["keyless"]["identities"]
    assert identity["issuer"] == "https://token.actions.githubusercontent.com"
    subject = re.compile(identity["subjectRegExp"])
    assert subject.match(CD_IDENTITY)
    for other in (CD_IDENTITY.replace("cd.yml", "ci.yml"),
                  CD_IDENTITY.replace("refs/heads/main", "refs/heads/feature"),
                  CD_IDENTITY.replace("example-org", "a-fork"),
                  CD_IDENTITY + "x"):
        assert not subject.match(other), other


def test_an_image_no_policy_names_is_refused(policies):
    assert admitting(policies, "docker.io/library/nginx:1.27") == []
    assert admitting(policies, "ghcr.io/someone-else/playlist-recs-bento@sha256:" + "0" * 64) == []


def test_a_misspelled_field_is_refused_and_the_app_cannot_change_policies(policies,
                                                                          argocd_objects):
    typo = {**policies[0], "spec": {**policies[0]["spec"], "authoritys": []}}
    assert crd_errors(typo) != []
    project = next(o for o in argocd_objects if o["kind"] == "AppProject")
    allowed = {entry["kind"] for entry in project["spec"].get("clusterResourceWhitelist", [])}
    assert "ClusterImagePolicy" not in allowed and "*" not in allowed
