"""Save an empty `playlist_recommender` entry in the model store, only so `bentoml build` can
resolve the model the service declares. CD builds release images this way: nothing is trained,
and the slim template (bento/Dockerfile.j2) copies no models/ into the image, so the pods serve
the version their initContainer imports (pinned in k8s/overlays/prod/model-version.env).

    BENTOML_HOME=$RUNNER_TEMP/bentoml python scripts/images/placeholder_model.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import bentoml

MODEL_NAME = "playlist_recommender"


def main() -> int:
    with bentoml.models.create(MODEL_NAME, labels={"placeholder": "true"},
                               metadata={"purpose": "bentoml build resolution only"}) as model:
        Path(model.path_of("PLACEHOLDER")).write_text("not a model: never shipped or served\n")
    print(model.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
