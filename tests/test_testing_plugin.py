"""The pytest plugin users get with ``pip install videopipe``: its fixtures work.

Each test writes a user's test module into a fresh folder and runs pytest on it in a
subprocess (``pytester``): no conftest of this repository is there, so the fixtures
come from the ``pytest11`` entry point alone. The inner tests check every fixture's
truth against decoding: frame counts and timestamps, the square's position, QR
payloads read by zxing-cpp and by the shipped ``qr_codes`` pipeline, OCR of the
rendered text through the shipped ``text`` pipeline, and the typed errors of the
corrupt files. Each run must pass every inner test: a skip fails the outer test.
"""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

FIXTURES = (
    "videopipe_container",
    "mock_runner",
    "make_test_video",
    "make_synthetic_video",
    "make_corrupt_video",
    "make_mock_runner",
    "make_latency_runner",
    "make_mutation_runner",
    "make_failure_runner",
)


def run_inner(pytester: pytest.Pytester, source: str, passed: int) -> None:
    pytester.makepyfile(source)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=passed)


def test_the_entry_point_alone_provides_every_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures")
    assert result.ret == 0
    listed = result.stdout.str()
    section = listed[listed.index("fixtures defined from videopipe.testing.plugin") :]
    for name in FIXTURES:
        assert re.search(rf"^{name} -- .*videopipe/testing/plugin\.py:\d+$", section, re.M), name


def test_fixtures_are_available_to_users_tests(pytester: pytest.Pytester) -> None:
    """The fixtures as they existed first keep working (backward compatibility)."""
    run_inner(
        pytester,
        """
        import sys

        from videopipe.testing import read_frame_index

        def test_loading_the_plugin_does_not_import_videopipe_s_container():
            assert "videopipe.container" not in sys.modules

        def test_user_code(videopipe_container, mock_runner, make_test_video):
            video = make_test_video("clip.mp4", frames=5, width=160, height=120)
            with videopipe_container.runner.override(mock_runner):
                results = videopipe_container.video_service().run_on_file("demo", video)
            assert [item["frame_index"] for item in results] == [0, 1, 2, 3, 4]
            assert len(mock_runner.calls) == 5

        def test_frames_carry_their_index(videopipe_container, make_test_video):
            video = make_test_video("clip.mkv", frames=4, width=160, height=120)
            with videopipe_container.frame_source().open(str(video)) as reader:
                assert [read_frame_index(f.image) for f in reader.frames()] == [0, 1, 2, 3]
        """,
        passed=3,
    )


def test_synthetic_videos_truth_matches_decoding(pytester: pytest.Pytester) -> None:
    run_inner(
        pytester,
        """
        import numpy as np
        import pytest

        from videopipe.testing import SyntheticVideo, read_frame_index


        def decode(container, video):
            with container.frame_source().open(str(video)) as reader:
                return list(reader.frames())


        def check_frames(frames, video):
            assert len(frames) == video.frame_count
            assert [f.index for f in frames] == [t.index for t in video.frames]
            assert [f.timestamp for f in frames] == video.timestamps
            assert all(f.image.shape == (video.height, video.width, 3) for f in frames)


        @pytest.mark.parametrize("vfr", [False, True])
        def test_moving_square(videopipe_container, make_synthetic_video, vfr):
            video = make_synthetic_video(
                "square.mp4", content="moving_square", frames=40, width=160, height=120,
                fps=30, vfr=vfr,
            )
            assert isinstance(video, SyntheticVideo) and video.fps == 30
            frames = decode(videopipe_container, video)
            check_frames(frames, video)
            boxes = []
            for frame, truth in zip(frames, video.frames):
                bright = frame.image.mean(axis=2) > 128
                rows = np.flatnonzero(bright.any(axis=1))
                cols = np.flatnonzero(bright.any(axis=0))
                found = (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)
                assert max(abs(int(a) - b) for a, b in zip(found, truth.box)) <= 1, (
                    truth, found)
                boxes.append(truth.box)
            assert len(set(boxes)) == len(boxes), "the square moves on every frame"
            # 40 frames at 4 px/frame over a 160 px frame: it bounced off the right edge
            assert max(box[2] for box in boxes) == 160


        def test_solid(videopipe_container, make_synthetic_video):
            video = make_synthetic_video(
                "solid.mkv", content="solid", frames=3, width=64, height=48,
                colour=(200, 40, 90),
            )
            frames = decode(videopipe_container, video)
            check_frames(frames, video)
            for frame in frames:
                mean = frame.image.reshape(-1, 3).mean(axis=0)
                assert np.abs(mean - np.array(video.frames[0].colour)).max() <= 4, mean


        def test_index_and_testsrc(videopipe_container, make_synthetic_video):
            video = make_synthetic_video("index.mp4", frames=6, width=160, height=120)
            frames = decode(videopipe_container, video)
            check_frames(frames, video)
            assert [read_frame_index(f.image) for f in frames] == list(range(6))
            pattern = make_synthetic_video("testsrc.mp4", content="testsrc", frames=7, fps=10)
            check_frames(decode(videopipe_container, pattern), pattern)


        def test_qr_payloads(videopipe_container, make_synthetic_video):
            zxingcpp = pytest.importorskip("zxingcpp")
            video = make_synthetic_video("qr.mp4", content="qr", frames=12, width=160,
                                         height=120)
            frames = decode(videopipe_container, video)
            check_frames(frames, video)
            assert [t.text for t in video.frames] == [f"frame-{i}" for i in range(12)]
            for frame, truth in zip(frames, video.frames):
                assert [code.text for code in zxingcpp.read_barcodes(frame.image)] == [
                    truth.text]
            videopipe_container.config.set("runner", "dag")
            results = videopipe_container.video_service().run_on_file("qr_codes", video)
            assert len(results) == 12
            for item, truth in zip(results, video.frames):
                codes = item["result"]["codes"]["codes"]
                assert [code["text"] for code in codes] == [truth.text]
                assert max(abs(a - b) for a, b in zip(codes[0]["box"], truth.box)) <= 4


        def test_qr_payloads_follow_the_label(make_synthetic_video):
            video = make_synthetic_video("label.mp4", content="qr", frames=2,
                                         label="id:{index:03d}")
            assert [t.text for t in video.frames] == ["id:000", "id:001"]


        def test_rendered_text_is_read_by_the_text_pipeline(
            videopipe_container, make_synthetic_video
        ):
            pytest.importorskip("rapidocr")
            video = make_synthetic_video("text.mp4", content="text", frames=3, width=320,
                                         height=240)
            check_frames(decode(videopipe_container, video), video)
            videopipe_container.config.set("runner", "dag")
            videopipe_container.config.set("frame_stride", 2)
            results = videopipe_container.video_service().run_on_file("text", video)
            assert [item["frame_index"] for item in results] == [0, 2]
            for item in results:
                truth = video.frames[item["frame_index"]]
                texts = item["result"]["text"]["texts"]
                assert ["".join(t["text"].split()) for t in texts] == [
                    "".join(truth.text.split())]
                x1, y1, x2, y2 = texts[0]["box"]
                tx1, ty1, tx2, ty2 = truth.box
                assert x1 <= tx1 + 4 and y1 <= ty1 + 4 and x2 >= tx2 - 4 and y2 >= ty2 - 4


        def test_qr_without_segno_names_the_extra(make_synthetic_video, monkeypatch):
            from videopipe import MissingDependencyError

            monkeypatch.setitem(__import__("sys").modules, "segno", None)
            with pytest.raises(MissingDependencyError, match=r'videopipe\\[testing\\]'):
                make_synthetic_video("qr.mp4", content="qr", frames=1)


        def test_bad_options_are_refused(make_synthetic_video, tmp_path):
            with pytest.raises(ValueError, match="content must be one of"):
                make_synthetic_video("x.mp4", content="plasma")
            with pytest.raises(ValueError, match="frames must be >= 0"):
                make_synthetic_video("x.mp4", frames=-1)
            with pytest.raises(ValueError, match="does not fit"):
                make_synthetic_video("x.mp4", content="text", width=32, height=32)
            with pytest.raises(ValueError, match="does not fit"):
                make_synthetic_video("x.mp4", content="moving_square", size=300)
            with pytest.raises(RuntimeError, match="width not divisible by 2"):
                make_synthetic_video("odd.mp4", width=161, height=120)
            assert list(tmp_path.iterdir()) == []  # nothing half-written is left
        """,
        passed=9,
    )


def test_corrupt_files_give_typed_errors(pytester: pytest.Pytester) -> None:
    run_inner(
        pytester,
        """
        import pytest

        from videopipe import VideoDecodeError, VideoReadError


        DECODERS = ["imageio_ffmpeg", "opencv", "pyav"]


        @pytest.mark.parametrize("decoder", DECODERS)
        @pytest.mark.parametrize(
            "kind", ["corrupted", "header_only", "truncated_header", "random"]
        )
        def test_unreadable_before_any_frame(
            videopipe_container, mock_runner, make_corrupt_video, kind, decoder
        ):
            path = make_corrupt_video(kind)
            assert path.name == f"{kind}.mp4" and path.stat().st_size > 0
            videopipe_container.config.set("decoder", decoder)
            with videopipe_container.runner.override(mock_runner):
                service = videopipe_container.video_service()
                with pytest.raises(VideoReadError, match="Unable to read video file"):
                    service.run_on_file("demo", path)
            assert mock_runner.calls == []


        def test_the_seed_s_corrupted_mp4_is_the_seed_s_bytes(make_corrupt_video):
            data = make_corrupt_video("corrupted").read_bytes()
            assert data == b"\\x00\\x00\\x00\\x18ftypmp42\\x00\\x00\\x00\\x00mp42mp41BADBADBADBAD"


        def test_random_bytes_are_seeded(make_corrupt_video):
            first = make_corrupt_video("random", "a.bin", size=300, seed=7).read_bytes()
            again = make_corrupt_video("random", "b.bin", size=300, seed=7).read_bytes()
            other = make_corrupt_video("random", "c.bin", size=300, seed=8).read_bytes()
            assert len(first) == 300 and first == again and first != other


        @pytest.mark.parametrize("decoder", DECODERS)
        def test_truncated_gives_its_frames_then_a_decode_error(
            videopipe_container, mock_runner, make_corrupt_video, decoder
        ):
            path = make_corrupt_video("truncated", fraction=0.5)
            videopipe_container.config.set("decoder", decoder)
            seen = []
            with videopipe_container.runner.override(mock_runner):
                service = videopipe_container.video_service()
                with pytest.raises(VideoDecodeError) as caught:
                    for item in service.iter_results("demo", path):
                        seen.append(item["frame_index"])
            assert 0 < len(seen) < 48
            assert seen == list(range(len(seen)))
            assert caught.value.frames_read == len(seen)
            assert caught.value.frames_expected == 48


        def test_truncated_without_faststart_has_no_frame(videopipe_container,
                                                          make_corrupt_video):
            path = make_corrupt_video("truncated", fraction=0.9, faststart=False)
            with pytest.raises(VideoReadError) as caught:
                videopipe_container.video_service().run_on_file("demo", path)
            assert not isinstance(caught.value, VideoDecodeError)


        def test_unknown_kind_and_options_are_refused(make_corrupt_video):
            with pytest.raises(ValueError, match="kind must be one of"):
                make_corrupt_video("melted")
            with pytest.raises(TypeError, match="does not take"):
                make_corrupt_video("header_only", size=3)
        """,
        passed=19,
    )


def test_doubles_and_container_fixtures(pytester: pytest.Pytester) -> None:
    run_inner(
        pytester,
        """
        import pytest

        from videopipe.testing import (
            FailureInjectingRunner,
            MockDagPipelineService,
            MockDagPipelineServiceWithLatency,
        )


        def test_container_is_the_test_environment(videopipe_container):
            assert videopipe_container.config.environment() == "test"
            assert isinstance(videopipe_container.runner(), MockDagPipelineService)


        def test_mock_runner_factory_injects_the_seed_s_failures(
            videopipe_container, make_mock_runner, make_test_video
        ):
            video = make_test_video(frames=3, width=64, height=48)
            for mode, error in [("pipeline_not_found", FileNotFoundError),
                                ("plugin_error", RuntimeError),
                                ("random_failure", ValueError)]:
                runner = make_mock_runner(mode)
                with videopipe_container.runner.override(runner):
                    with pytest.raises(error):
                        videopipe_container.video_service().run_on_file("p", video)
                assert len(runner.calls) == 1
            kept = make_mock_runner(keep_images=True)
            with videopipe_container.runner.override(kept):
                videopipe_container.video_service().run_on_file("p", video)
            assert kept.calls[0]["payload"]["image"].shape == (48, 64, 3)


        def test_latency_runner_factory(videopipe_container, make_latency_runner,
                                        make_test_video):
            video = make_test_video(frames=4, width=64, height=48)
            runner = make_latency_runner(0.3)
            assert isinstance(runner, MockDagPipelineServiceWithLatency)
            assert runner.latency_seconds == 0.3
            videopipe_container.config.set("runner_timeout", 0.05)
            videopipe_container.config.set("on_error", "skip")
            with videopipe_container.runner.override(runner):
                results = videopipe_container.video_service().run_on_file("slow", video)
            assert [item["error"]["type"] for item in results] == ["RunnerTimeoutError"] * 4


        def test_mutation_runner_factory(videopipe_container, make_mutation_runner,
                                         make_test_video):
            video = make_test_video(frames=2, width=64, height=48)
            by_fields = make_mutation_runner(fields={"flag": True})
            by_function = make_mutation_runner(lambda out: {**out, "twice": 2 * out["frame_index"]})
            for runner, key, values in [(by_fields, "flag", [True, True]),
                                        (by_function, "twice", [0, 2])]:
                with videopipe_container.runner.override(runner):
                    results = videopipe_container.video_service().run_on_file("m", video)
                assert [item["result"][key] for item in results] == values
                assert all(item["result"]["mock"] is True for item in results)
            with pytest.raises(TypeError):
                make_mutation_runner()
            with pytest.raises(TypeError):
                make_mutation_runner(lambda out: out, fields={"x": 1})


        def test_failure_runner_factory(videopipe_container, make_failure_runner,
                                        make_test_video):
            video = make_test_video(frames=6, width=64, height=48)
            runner = make_failure_runner(fail_at=[2], every=5, exception="KeyError")
            assert isinstance(runner, FailureInjectingRunner)
            videopipe_container.config.set("on_error", "skip")
            with videopipe_container.runner.override(runner):
                results = videopipe_container.video_service().run_on_file("f", video)
            failed = [item["frame_index"] for item in results if item.get("error")]
            assert failed == [2, 4]
            assert {item["error"]["type"] for item in results if item.get("error")} == {
                "KeyError"}
            with pytest.raises(ValueError, match="every must be >= 1"):
                make_failure_runner(every=0)
        """,
        passed=5,
    )
