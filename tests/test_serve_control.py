"""The control endpoints in-process: continue a /generate answer, keyframes, edits, restyles,
timelines, jobs whose motions survive in the store, and one clear error per bad input."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from motiongen.serve import ServeSettings, create_app  # noqa: E402
from tests.serve_helpers import assert_error, wait_job  # noqa: E402

QUICK = {"steps": 2, "seed": 1}

if not (Path(__file__).parents[1] / "motiongen/assets/models/tiny-control/config.json").is_file():
    pytest.skip("the control model tiny-control is not shipped yet", allow_module_level=True)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    app = create_app(ServeSettings(store=tmp_path_factory.mktemp("store"), queue_size=4,
                                   max_batch=2, client_share=4))  # fmt: skip
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def walk(client: TestClient) -> dict:
    r = client.post("/generate", json={"text": "a person walks forward", "seconds": 3.0, **QUICK})
    assert r.status_code == 200, r.text
    return r.json()


def _positions(r) -> np.ndarray:  # noqa: ANN001
    assert r.status_code == 200, r.text
    return np.asarray(r.json()["positions"])


def test_predict_continues_a_generated_motion_keeping_it(client: TestClient, walk: dict) -> None:
    r = client.post("/predict", json={"motion": walk, "seconds": 5.0, "text": "a person waves",
                                      **QUICK})  # fmt: skip
    got = _positions(r)
    assert got.shape == (100, 22, 3)
    np.testing.assert_allclose(got[:60], np.asarray(walk["positions"]), atol=2e-4)
    assert r.json()["meta"]["task"] == "predict"
    assert r.json()["meta"]["checkpoint"] == "tiny-control"


def test_inbetween_edit_restyle_compose(client: TestClient, walk: dict) -> None:
    pose = {"fps": 20.0, "positions": walk["positions"][:1]}
    end = {"fps": 20.0, "positions": walk["positions"][-1:]}
    got = _positions(client.post("/inbetween", json={"keyframes": [pose, end], "times": [0, 3],
                                                     **QUICK}))  # fmt: skip
    assert got.shape == (61, 22, 3)
    np.testing.assert_allclose(got[-1], np.asarray(end["positions"][0]), atol=2e-4)

    r = client.post("/edit", json={"motion": walk, "text": "a person waves with both hands",
                                   "joints": ["arms"], **QUICK})  # fmt: skip
    edited, before = _positions(r), np.asarray(walk["positions"])
    legs = [1, 2, 4, 5, 7, 8, 10, 11]
    np.testing.assert_allclose(edited[:, legs], before[:, legs], atol=2e-4)
    # one name as a string, as the command line takes it (refused before: a new user's trial)
    one = client.post("/edit", json={"motion": walk, "text": "a person waves with both hands",
                                     "joints": "arms", **QUICK})  # fmt: skip
    np.testing.assert_allclose(_positions(one), edited, atol=1e-6)

    r = client.post("/restyle", json={"motion": walk, "style": "sad", **QUICK})
    assert _positions(r).shape == (60, 22, 3) and r.json()["meta"]["style"] == "sad"
    assert r.json()["meta"]["task"] == "restyle"  # as the endpoint is named (it said "style")
    # a sad walk covers less ground than this one: at its own pace unless keep_speed
    assert 0.3 < r.json()["meta"]["pace"] < 1.0
    r = client.post("/restyle", json={"motion": walk, "style": "sad", "keep_speed": True, **QUICK})
    assert "pace" not in r.json()["meta"]
    np.testing.assert_allclose(  # the path over the ground; the height is the style's own
        _positions(r)[:, 0, [0, 2]], np.asarray(walk["positions"])[:, 0, [0, 2]], atol=2e-4
    )
    r = client.post("/restyle", json={"motion": walk, "style": "happy",
                                      "blend": {"style": "sad", "weight": 0.5}, **QUICK})  # fmt: skip
    assert r.json()["meta"]["blend"] == ["sad", 0.5]
    # or the whole path at the sad pace, in more time
    r = client.post("/restyle", json={"motion": walk, "style": "sad", "whole_path": True, **QUICK})
    assert len(_positions(r)) > 60 and 0.3 < r.json()["meta"]["whole_path"]["pace"] < 1.0
    r = client.post("/restyle", json={"motion": walk, "style": "sad", "whole_path": True,
                                      "keep_speed": True, **QUICK})  # fmt: skip
    assert_error(r, 422, "give one of them")

    r = client.post("/compose", json={"prompt": "a person walks, then bows", "seconds": 6, **QUICK})
    assert _positions(r).shape == (120, 22, 3)
    # timelines default to the smooth control model (chosen on val for its seams)
    assert r.json()["meta"]["checkpoint"] == "tiny-control-smooth"
    assert r.json()["text"] == "a person walks, then a person bows"  # every segment, in turn
    r = client.post("/compose", json={"segments": [{"text": "a person runs", "seconds": 2},
                                                   {"text": "a person bows", "seconds": 2}],
                                      **QUICK})  # fmt: skip
    assert r.json()["meta"]["segments"] == [["a person runs", 2.0], ["a person bows", 2.0]]
    # restyled with its segments (as the web page sends them), each keeps its own words
    timeline = {
        "fps": r.json()["fps"],
        "positions": r.json()["positions"],
        "segments": [{"text": t, "seconds": s} for t, s in r.json()["meta"]["segments"]],
    }
    r = client.post("/restyle", json={"motion": timeline, "style": "sad", **QUICK})
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "a person runs in a sad way, then a person bows in a sad way"
    # a one-segment answer's meta.segments goes back as it is too (it had been a 422)
    one = client.post("/compose", json={"segments": [{"text": "a person bows", "seconds": 2}],
                                        **QUICK}).json()  # fmt: skip
    back = {"fps": one["fps"], "positions": one["positions"],
            "segments": [{"text": t, "seconds": s} for t, s in one["meta"]["segments"]]}  # fmt: skip
    r = client.post("/restyle", json={"motion": back, "style": "sad", **QUICK})
    assert r.status_code == 200, r.text
    assert "sad" in client.get("/styles").json()["styles"]
    # a named style on a continuation or a timeline, said in the text's words too
    r = client.post("/predict", json={"motion": walk, "seconds": 4.0, "text": "a person walks",
                                      "style": "sad", **QUICK})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["style"] == "sad" and r.json()["text"].endswith("in a sad way")
    r = client.post("/compose", json={"prompt": "a person walks, then bows", "seconds": 4,
                                      "style": "sad", **QUICK})  # fmt: skip
    assert r.status_code == 200, r.text
    assert [t for t, _ in r.json()["meta"]["segments"]] == [
        "a person walks in a sad way",
        "a person bows in a sad way",
    ]
    assert client.post("/predict", json={"motion": walk, "seconds": 4.0,
                                         "style": "grumpy"}).status_code == 422  # fmt: skip


def test_segment_model_self_as_the_warnings_suggest(client: TestClient, walk: dict) -> None:
    r = client.post("/edit", json={"motion": walk, "text": "a person bows", "frames": [0.5, 2.5],
                                   "segment_model": "self", **QUICK})  # fmt: skip
    assert _positions(r).shape == (60, 22, 3) and "segments_from" not in r.json()["meta"]
    body = {"prompt": "a person walks, then bows", "seconds": 4, **QUICK}
    joined = client.post("/compose", json=body).json()["meta"]
    alone = client.post("/compose", json={**body, "segment_model": "self"}).json()["meta"]
    assert "segments_from" in joined and "segments_from" not in alone, (joined, alone)
    assert_error(client.post("/compose", json={**body, "segment_model": "tiny-flow"}), 422,
                 "segment_model")  # fmt: skip
    assert_error(client.post("/compose", json={**body, "model": "tiny-flow"}), 422,
                 "is a text model")  # fmt: skip


def test_a_control_job_keeps_its_motion_in_the_store(client: TestClient, walk: dict) -> None:
    r = client.post("/predict", json={"motion": walk, "seconds": 4.0, "async": True, **QUICK})
    assert r.status_code == 202, r.text
    url = r.json()["url"]
    info = wait_job(client, url)
    assert info["status"] == "done", info
    assert "motions" not in info["request"] and info["kind"] == "predict"
    got = np.asarray(client.get(f"{url}/result").json()["positions"])
    np.testing.assert_allclose(got[:60], np.asarray(walk["positions"]), atol=2e-4)


def test_a_timeline_job_makes_the_motion_a_direct_answer_makes(client: TestClient) -> None:
    # the job stored the total length beside the segments' own and was refused on its run
    # (the web page's MP4 of a composed timeline always failed); a prompt's was split anew
    for body in (
        {
            "segments": [
                {"text": "a person runs", "seconds": 2},
                {"text": "a person bows", "seconds": 2},
            ]
        },
        {"prompt": "a person walks, then bows"},
    ):
        body = {**body, "seed": 5, **QUICK}
        direct = _positions(client.post("/compose", json=body))
        r = client.post("/compose", json={**body, "async": True})
        assert r.status_code == 202, r.text
        info = wait_job(client, r.json()["url"])
        assert info["status"] == "done", info
        job = np.asarray(client.get(f"{r.json()['url']}/result").json()["positions"])
        np.testing.assert_allclose(job, direct, atol=2e-4)  # both rounded to 0.1 mm


def test_control_answers_loop_and_keep_still_as_generate_s(client: TestClient, walk: dict):
    # the command line's --loop / --no-travel were refused here as unknown fields, and an
    # in-between's --style too (a game developer's trial)
    body = {"segments": [{"text": "a person walks forward", "seconds": 2},
                         {"text": "a person waves", "seconds": 2}], "no_travel": True, **QUICK}  # fmt: skip
    pelvis = _positions(client.post("/compose", json=body))[:, 0]
    np.testing.assert_allclose(pelvis[:, [0, 2]] - pelvis[0, [0, 2]], 0.0, atol=1e-4)
    looped = client.post("/predict", json={"motion": walk, "seconds": 5.0, "loop": True, **QUICK})
    assert looped.status_code == 200, looped.text
    assert looped.json()["meta"]["loop"]["closed"]
    pose = {"fps": 20.0, "positions": walk["positions"][:1]}
    end = {"fps": 20.0, "positions": walk["positions"][-1:]}
    sad = client.post("/inbetween", json={"keyframes": [pose, end], "times": [0, 3],
                                          "text": "a person walks", "style": "sad", **QUICK})  # fmt: skip
    assert sad.status_code == 200, sad.text
    assert sad.json()["meta"]["style"] == "sad"


def test_a_30_fps_job_comes_back_at_30_fps_and_its_npy_at_20(client: TestClient, walk: dict):
    from motiongen.motion import Motion

    thirty = Motion(positions=np.asarray(walk["positions"], np.float32), fps=20.0).resample(30.0)
    body = {"motion": {"fps": 30.0, "positions": thirty.positions.tolist()}, "seconds": 4.0}
    r = client.post("/predict", json={**body, "async": True, **QUICK})
    assert r.status_code == 202, r.text
    url = r.json()["url"]
    info = wait_job(client, url)
    assert info["status"] == "done", info
    result = client.get(f"{url}/result").json()
    assert result["fps"] == 30.0 and result["num_frames"] == 120
    np.testing.assert_allclose(np.asarray(result["positions"])[:90], thirty.positions, atol=2e-4)
    npy = np.load(io.BytesIO(client.get(f"{url}/result?format=npy").content))
    assert npy.shape == (80, 22, 3)  # a .npy holds no frame rate: 20 fps, as it is read
    r = client.post("/predict", json={**body, "fps": 60, **QUICK})  # another rate, asked for
    assert r.status_code == 200, r.text
    assert r.json()["fps"] == 60.0 and r.json()["num_frames"] == 240
    r = client.post("/predict", json={**body, "fps": 60, "format": "npy", **QUICK})
    assert r.status_code == 422 and "stores no frame rate" in r.json()["error"]


def _motion(frames: int = 20, **change) -> dict:
    p = np.zeros((frames, 22, 3)) + np.linspace(0, 1.6, 22)[None, :, None] * [0, 1, 0]
    p[..., 0] += np.linspace(-0.2, 0.2, 22)[None, :]
    return {"fps": 20.0, "positions": p.tolist(), **change}


@pytest.mark.parametrize(
    "path, body, words",
    [
        ("/predict", {"motion": _motion(), "seconds": 0.5}, ["longer than the past"]),
        ("/predict", {"motion": _motion(fps=0), "seconds": 5}, ["fps"]),
        ("/predict", {"motion": {"fps": 20, "positions": [[[0, 0]]]}, "seconds": 5}, ["positions", "3 items"]),
        ("/predict", {"motion": _motion(), "seconds": 5, "model": "tiny-flow"},
         ["not trained for control", "such as tiny-control"]),
        ("/predict", {"motion": _motion(3601), "seconds": 200},
         ["at most 3600 frames", "lower frame rate"]),
        ("/edit", {"motion": _motion(), "text": "a person waves", "joints": 5},
         ['e.g. ["arms"]']),
        ("/inbetween", {"keyframes": [_motion(1), _motion(1)], "times": [2, 1]}, ["increase"]),
        ("/inbetween", {"keyframes": [_motion(1), _motion(1)], "times": [0]}, ["times"]),
        ("/edit", {"motion": _motion(), "text": "a person bows", "joints": ["tail"]}, ["tail"]),
        ("/edit", {"motion": _motion(), "joints": ["arms"]}, ["text"]),
        ("/restyle", {"motion": _motion(), "style": "grumpy"}, ["grumpy", "sad"]),
        ("/restyle", {"motion": _motion()}, ["style"]),
        ("/restyle", {"motion": _motion(), "style": "sad", "blend": {"style": "Sad", "weight": 0.5}},
         ["the style it starts from"]),
        ("/compose", {"seconds": 4}, ["prompt", "segments"]),
        ("/compose", {"segments": [{"text": "a person walks", "seconds": 2},
                                   {"text": "a person bows", "seconds": 500}]},
         ["segments[i].seconds (first at segments[1].seconds)"]),
        ("/compose", {"prompt": "a person walks", "segments": [{"text": "a", "seconds": 1}]},
         ["either"]),
    ],
)  # fmt: skip
def test_bad_control_requests(client: TestClient, path: str, body: dict, words: list) -> None:
    assert_error(client.post(path, json={**body, "steps": 1}), 422, *words)


def test_an_implausible_motion_is_refused(client: TestClient) -> None:
    giant = _motion()
    giant["positions"] = (np.asarray(giant["positions"]) * 100).tolist()  # centimetres
    assert_error(client.post("/predict", json={"motion": giant, "seconds": 5}), 422, "metres")


def test_no_motion_files_are_left_behind(client: TestClient) -> None:
    store = Path(client.app.state.server.store.uploads_dir)
    assert not any(store.iterdir()), list(store.iterdir())


def test_lengths_over_the_service_s_30_s_say_how_they_were_counted(
    client: TestClient, walk: dict
) -> None:
    r = client.post("/predict", json={"motion": walk, "seconds": 34})
    assert (
        r.status_code == 422
        and "the past's" in r.json()["error"]
        and "at most 30 s" in r.json()["error"]
    )
    r = client.post("/compose", json={"segments": [{"text": "a person walks", "seconds": 20},
                                                   {"text": "a person bows", "seconds": 20}]})  # fmt: skip
    assert r.status_code == 422 and "last 40 s in all" in r.json()["error"]
    many = ", then ".join(["a person walks", "a person bows", "a person jumps"] * 4)
    r = client.post("/compose", json={"prompt": many, "steps": 1})
    assert r.status_code == 422 and "at most 30 s" in r.json()["error"], r.text


def test_generate_makes_a_then_prompt_as_compose_does(client: TestClient) -> None:
    # "walks, then bows" made as one motion showed one action (a warning pointed to /compose)
    body = {"text": "a person walks, then bows", "seconds": 4.0, **QUICK}
    made = client.post("/generate", json=body)
    composed = client.post("/compose", json={"prompt": body["text"], "seconds": 4.0, **QUICK})
    np.testing.assert_allclose(_positions(made), _positions(composed), atol=2e-4)
    meta = made.json()["meta"]
    assert [t for t, _ in meta["segments"]] == ["a person walks", "a person bows"]
    assert meta["segments_from"] == "tiny-flow-rollout-r5"
    one = client.post("/generate", json={**body, "timeline": False}).json()["meta"]
    assert "segments" not in one and "one after the other" in one["warning"]
    r = client.post("/generate", json={**body, "async": True})  # as a job: kind compose
    assert r.status_code == 202, r.text
    info = wait_job(client, r.json()["url"])
    assert info["status"] == "done" and info["kind"] == "compose", info
    job = np.asarray(client.get(f"{r.json()['url']}/result").json()["positions"])
    np.testing.assert_allclose(job, _positions(made), atol=2e-4)
    # a known action whose own sentences say "then" stays one motion
    turn = client.post("/generate", json={**body, "text": "a person walks forward then turns "
                                          "to the left"}).json()["meta"]  # fmt: skip
    assert "segments" not in turn and "warning" not in turn
    # what a timeline does not take is refused as the library refuses it, or makes one motion
    assert_error(client.post("/generate", json={**body, "timeline": True, "use_rag": True}),
                 422, "takes no rag")  # fmt: skip
    assert_error(client.post("/generate", json={**body, "beat_sync": True}), 422, "beat")
    short = client.post("/generate", json={**body, "seconds": 0.6})
    assert_error(short, 422, "timeline", "false")  # the way out named


def test_a_given_motion_too_long_for_the_service_is_said_so(client: TestClient, walk: dict) -> None:
    # a 40 s motion restyled had been told "the prompt asks 40 s" (a restyle has no prompt)
    long = {"fps": walk["fps"], "positions": walk["positions"] * 11}  # 33 s
    r = client.post("/restyle", json={"motion": long, "style": "sad", **QUICK})
    assert_error(r, 422, "the result would last 33 s; this service makes at most 30 s")


def test_an_edit_in_place_over_rest(client: TestClient, walk: dict) -> None:
    r = client.post("/edit", json={"motion": walk, "text": "a person bows", "frames": [0.5, 2.0],
                                   "in_place": True, **QUICK})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["rest_moved_m"] > 0.3  # the walk's 1.5 s taken back
    r = client.post("/edit", json={"motion": walk, "text": "a person waves", "joints": "arms",
                                   "in_place": True, **QUICK})  # fmt: skip
    assert_error(r, 422, "in_place (--in-place) makes a span's action where the span starts")
