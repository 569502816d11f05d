

def test_every_classifier_has_a_scheduling_priority_and_the_longest_go_first():
    from ecrs_analysis.models.names import MODEL_NAMES
    from ecrs_analysis.pipeline.workflow import TRAINING_PRIORITY, training_priority

    assert set(TRAINING_PRIORITY) == set(MODEL_NAMES) - {"mtlnet"}
    assert training_priority("hrnet3d") > training_priority("xception3d") > training_priority("resnet3d")
