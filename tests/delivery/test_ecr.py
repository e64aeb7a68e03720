"""ECR repositories and the SSM cookie secret against moto: idempotent creation, login, clean deletion."""

from delivery import ecr, secrets
from delivery.images import IMAGES

NAMES = [spec.repository for spec in IMAGES]


def test_ensure_repositories_creates_each_once(aws):
    client = aws.client("ecr")
    first = ecr.ensure_repositories(client, NAMES)
    second = ecr.ensure_repositories(client, NAMES)

    assert first == second
    assert set(first) == {"yoloflask/api", "depthanythingflask/api", "objectdetectionreact/webapp"}
    listed = client.describe_repositories()["repositories"]
    assert sorted(r["repositoryName"] for r in listed) == sorted(NAMES)
    assert all(r["imageScanningConfiguration"]["scanOnPush"] for r in listed)


def test_ensure_repositories_keeps_an_existing_repository(aws):
    client = aws.client("ecr")
    existing = client.create_repository(repositoryName="yoloflask/api")["repository"]["repositoryUri"]

    uris = ecr.ensure_repositories(client, NAMES)

    assert uris["yoloflask/api"] == existing
    assert len(client.describe_repositories()["repositories"]) == 3


def test_registry_login_decodes_the_token(aws):
    login = ecr.registry_login(aws.client("ecr"))

    assert login.username == "AWS"
    assert login.password
    assert not login.registry.startswith("http")


def test_delete_repositories_is_idempotent(aws):
    client = aws.client("ecr")
    ecr.ensure_repositories(client, NAMES)

    assert ecr.delete_repositories(client, NAMES) == NAMES
    assert ecr.delete_repositories(client, NAMES) == []
    assert client.describe_repositories()["repositories"] == []


def test_registry_host():
    assert ecr.registry_host("123456789012", "eu-west-1") == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def test_release_tag_moves_only_that_tag(aws):
    client = aws.client("ecr")
    ecr.ensure_repositories(client, ["yoloflask/api"])
    manifest = '{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}'
    client.put_image(repositoryName="yoloflask/api", imageManifest=manifest, imageTag="abc")
    client.put_image(repositoryName="yoloflask/api", imageManifest=manifest, imageTag="prod")

    assert ecr.release_tag(client, "yoloflask/api", "prod")
    assert not ecr.release_tag(client, "yoloflask/api", "prod")
    assert ecr.image_exists(client, "yoloflask/api", "abc")
    assert not ecr.image_exists(client, "yoloflask/api", "prod")


def test_cookie_secret_is_made_once_and_kept(aws):
    ssm = aws.client("ssm")

    assert secrets.ensure_secret_parameter(ssm, "/objdepth/streamlit-cookie-secret")
    first = ssm.get_parameter(Name="/objdepth/streamlit-cookie-secret", WithDecryption=True)["Parameter"][
        "Value"
    ]
    assert not secrets.ensure_secret_parameter(ssm, "/objdepth/streamlit-cookie-secret")
    again = ssm.get_parameter(Name="/objdepth/streamlit-cookie-secret", WithDecryption=True)["Parameter"][
        "Value"
    ]

    assert first == again
    assert secrets.delete_secret_parameter(ssm, "/objdepth/streamlit-cookie-secret")
    assert not secrets.delete_secret_parameter(ssm, "/objdepth/streamlit-cookie-secret")
