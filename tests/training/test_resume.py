"""The resume state of training jobs (fold networks and MTLNet): one key, one folder beside the outputs."""

import os

from ecrs_analysis.training.resume import resume_key, work_dir, work_path


def test_the_key_changes_with_the_settings_and_with_a_remade_input_file(tmp_path):
    vol = tmp_path / "p01.npz"
    vol.write_bytes(b"volume")
    key = resume_key({"epochs": 4}, 3, files=[vol])
    assert resume_key({"epochs": 4}, 3, files=[vol]) == key
    assert resume_key({"epochs": 5}, 3, files=[vol]) != key
    st = vol.stat()
    vol.write_bytes(b"volume")  # re-made with the same bytes: another modification time
    os.utime(vol, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert resume_key({"epochs": 4}, 3, files=[vol]) != key


def test_state_of_another_key_is_cleared_and_of_the_same_key_kept(tmp_path):
    out = tmp_path / "study" / "mtlnet"
    w = work_dir(out, "key-a")
    assert w == work_path(out) == tmp_path / "study" / ".mtlnet.work"
    (w / "last.pt").write_text("epoch 2")
    assert (work_dir(out, "key-a") / "last.pt").read_text() == "epoch 2"
    assert not (work_dir(out, "key-b") / "last.pt").exists()
    (w / "job_key.json").write_text("[1, 2]")  # unreadable tag (not an object): start afresh, no crash
    (w / "last.pt").write_text("epoch 3")
    assert not (work_dir(out, "key-b") / "last.pt").exists()
