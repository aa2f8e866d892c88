"""The pytest plugin users get with ``pip install videopipe``: its fixtures work."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_fixtures_are_available_to_users_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from videopipe.testing import read_frame_index

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
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
