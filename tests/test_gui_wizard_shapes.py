"""The New Cluster wizard's fabric shape: link speeds per tier, dual-homed leaves, a
fixed pod size and the spine and core racks' types, chosen on the fabric page, shown
live in its "requested → builds" lines and generated.

The figures are those worked by hand in ``test_generator_shapes.py`` (HPN-style:
15,360 GPUs in 2 planes, 200G down / 400G up, one 15:1 pod; dual-homed 4,096 GPUs).
"""

from collections import Counter

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWizard

from gui.dialogs.wizard import NewClusterWizard

HPN_FABRIC = (
    "3 tiers × 2 planes: 240 leaves (128 × 200G down, 64 × 400G up), "
    "128 spines (120 down, 8 × 400G up), 8 cores, 1 pod per plane"
)


def _choose(combo: QComboBox, data: object) -> None:
    index = combo.findData(data)
    assert index >= 0, (data, [combo.itemData(k) for k in range(combo.count())])
    combo.setCurrentIndex(index)


def _type_gpus(qtbot, wizard: NewClusterWizard, gpus: int) -> None:
    spin = wizard.cluster_page.gpus
    spin.selectAll()
    qtbot.keyClicks(spin, str(gpus))
    assert spin.value() == gpus


def _tier_items(project, tier: str) -> list:
    return [i for i in project.items if i.properties.get("tier") == tier
            and i.properties.get("network", "backend") == "backend"]  # fmt: skip


def test_wizard_builds_an_hpn_style_fabric(qtbot):
    wizard = NewClusterWizard()
    qtbot.addWidget(wizard)
    wizard.show()
    _type_gpus(qtbot, wizard, 15_360)
    wizard.next()
    fabric = wizard.fabric_page
    assert wizard.currentPage() is fabric
    # The GPU-leaf link offers the leaf switch's speeds (SN5600: 200, 400, 800G).
    gpu_leaf = fabric.link_speeds[0]
    assert [gpu_leaf.itemData(k) for k in range(gpu_leaf.count())] == [None, 200, 400, 800]
    _choose(fabric.planes, 2)
    for combo, speed in zip(fabric.link_speeds, (200, 400, 400), strict=True):
        _choose(combo, speed)
    fabric.oversubscription.selectAll()
    qtbot.keyClicks(fabric.oversubscription, "1,15")
    fabric.pod_gpus.selectAll()
    qtbot.keyClicks(fabric.pod_gpus, "15360")
    assert fabric.summary.text().splitlines() == [
        "requested 15,360 GPUs → builds 15,360 GPUs in 240 racks (15 arrays)",
        HPN_FABRIC,
    ]
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.error is None
    project = wizard.project
    assert project is not None
    spec = project.fabric
    assert spec.link_speeds_gbps == [200, 400, 400]
    assert spec.pod_gpus == 15_360
    assert spec.planes == 2
    assert spec.dual_homed is False
    assert len(_tier_items(project, "leaf")) == 30  # 15 per plane, 8 leaves each
    assert len(_tier_items(project, "spine")) == 16  # 64 per plane in racks of 8
    assert [i.properties["switches"] for i in _tier_items(project, "core")] == [4, 4]


def test_wizard_builds_dual_homed_leaves_under_their_own_spine_racks(qtbot):
    wizard = NewClusterWizard()
    qtbot.addWidget(wizard)
    wizard.show()
    _type_gpus(qtbot, wizard, 4_096)
    wizard.next()
    fabric = wizard.fabric_page
    qtbot.mouseClick(fabric.dual_homed, Qt.MouseButton.LeftButton)
    assert fabric.dual_homed.isChecked()
    _choose(fabric.spine_rack, "net-sn5600-16")
    # Dual-homed GPU links run at 200G: 16-rack arrays, 64 leaves, 32 spines.
    assert fabric.summary.text().splitlines()[1] == (
        "2 tiers, dual-homed: 64 leaves (128 × 200G down, 64 × 400G up), 32 spines"
    )
    assert "(4 arrays)" in wizard.cluster_page.summary.text()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.error is None
    project = wizard.project
    assert project.fabric.dual_homed is True
    spines = _tier_items(project, "spine")
    assert [i.type_id for i in spines] == ["net-sn5600-16"] * 2
    # Every GPU rack is served by a pair of leaf racks.
    served = Counter(r for racks in project.fabric.assignments.values() for r in racks)
    assert len(served) == 64
    assert set(served.values()) == {2}


def test_wizard_says_on_the_fabric_page_why_a_shape_cannot_be_built(qtbot):
    wizard = NewClusterWizard()
    qtbot.addWidget(wizard)
    wizard.show()
    _type_gpus(qtbot, wizard, 4_096)
    wizard.next()
    fabric = wizard.fabric_page
    _choose(fabric.tiers, 2)
    fabric.pod_gpus.setValue(1_024)
    assert fabric.summary.text() == (
        "Cannot size this fabric: pod size: a fixed pod needs 3 tiers, but 2 were asked for"
    )
    _choose(fabric.tiers, "auto")
    _choose(fabric.link_speeds[0], 800)
    assert fabric.summary.text() == (
        "Cannot size this fabric: link speeds: a 800G GPU link exceeds the 400G NIC"
    )
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.isVisible()
    assert wizard.project is None
    assert "800G GPU link exceeds" in wizard.error
    assert fabric.error.isVisible()
