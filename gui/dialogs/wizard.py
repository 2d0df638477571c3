"""The New Cluster wizard: from a GPU count and a few choices to a laid-out hall.

Owns the questions and turning the answers into a
:class:`layout.generator.ClusterRequest`; the layout itself is
:func:`layout.generator.generate`'s. Pages: the cluster (GPUs, rack type,
array size), the fabric (network rack, NIC speed, tiers, planes,
oversubscription, and its shape: each link tier's speed, dual-homed leaves, a
fixed pod size and the spine and core racks' types), the hall (automatic, a
size, or the current floor, and the aisle widths) and the plant (power and
cooling types, as :class:`layout.facility.FacilityChoice`).

The first page shows, live as the planner types, what the answers build
("requested 100,000 GPUs → builds 100,032 GPUs in 1,563 racks (196 arrays)"),
sized by :func:`layout.generator.preview`, the generator's own arithmetic; the
fabric page shows the same line and the fabric it builds ("3 tiers × 2 planes:
240 leaves (128 × 200G down, 64 × 400G up), ...").

Bad entries are caught on their page (Next stays disabled and a red line
says why). Finish generates on a worker thread behind a busy progress dialog;
a :class:`~layout.generator.GeneratorError` (hall too small, fabric too
large, ...) is shown on the last page and the wizard stays open so the
planner can change the answer. On success :attr:`NewClusterWizard.project`
holds the new project. The wizard never touches the open project.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from layout.catalog import Catalog, default_catalog
from layout.errors import CoherenceError
from layout.facility import POWER_PRESETS, TOPOLOGIES, FacilityChoice, PowerChoice
from layout.floor import Floor
from layout.generator import (
    LINK_TIERS,
    MAX_GPUS,
    ClusterRequest,
    GeneratorError,
    SizePreview,
    generate,
    preview,
)
from layout.project import Project
from physics.tray_sizing import size_trays

PROGRESS_AFTER_MS = 300
"""A generation that takes longer than this shows the progress dialog."""
_ERROR_STYLE = "color: #c0251f;"

# FacilityChoice field -> (catalog kind, roles allowed) for the plant page's choices.
FACILITY_ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "busway": ("power", ("busway",)),
    "transformer": ("power", ("transformer",)),
    "switchgear": ("power", ("switchgear",)),
    "ups": ("power", ("ups",)),
    "source": ("power", ("grid_feed", "turbine", "generator")),
    "turbine": ("power", ("turbine", "generator")),
    "battery": ("power", ("battery",)),
    "crah": ("cooling", ("crah",)),
    "cdu": ("cooling", ("cdu",)),
    "chiller": ("cooling", ("chiller",)),
    "tower": ("cooling", ("cooling_tower",)),
}
FACILITY_LABELS = {
    "busway": "Busway",
    "transformer": "Transformer",
    "switchgear": "Switchgear",
    "ups": "UPS",
    "source": "Source (grid / turbine)",
    "turbine": "On-site turbine",
    "battery": "Battery",
    "crah": "CRAH",
    "cdu": "In-row CDU",
    "chiller": "Chiller",
    "tower": "Cooling tower",
}


def parse_ratios(text: str) -> tuple[float, ...]:
    """``"3,1"`` → ``(3.0, 1.0)``; GeneratorError naming the problem otherwise."""
    parts = [p.strip() for p in text.replace(";", ",").split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise GeneratorError(
            f"oversubscription: expected ratios like 1 or 3,1, got {text!r}"
        ) from None
    if not values or any(not (1.0 <= v <= 64.0) for v in values):
        raise GeneratorError(f"oversubscription: each ratio must be 1..64, got {text!r}")
    return values


def _combo(choices: list[tuple[str, object]], parent: QWidget) -> QComboBox:
    combo = QComboBox(parent)
    for text, data in choices:
        combo.addItem(text, data)
    return combo


def _select(combo: QComboBox, data: object) -> None:
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)


def _refill(combo: QComboBox, first: list[tuple[str, object]], speeds: set[float]) -> None:
    """``combo``'s choices: ``first``, then ``speeds`` in Gb/s; the choice kept if offered."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for text, data in first:
        combo.addItem(text, data)
    for speed in sorted(speeds):
        combo.addItem(f"{speed:g} Gb/s", speed)
    _select(combo, current)
    combo.blockSignals(False)


def _metres(value: float, parent: QWidget, low: float = 0.0, high: float = 20.0) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent)
    spin.setRange(low, high)
    spin.setDecimals(2)
    spin.setSingleStep(0.3)
    spin.setSuffix(" m")
    spin.setValue(value)
    return spin


def _error_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setStyleSheet(_ERROR_STYLE)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.hide()
    return label


class _Page(QWizardPage):
    """A page with a red line for problems (its own, or generation's when Finish is here)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.error = _error_label(self)


class ClusterPage(_Page):
    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Cluster")
        self.setSubTitle("How many GPUs, in which racks, grouped into arrays of how many racks.")
        form = QFormLayout(self)
        self.gpus = QSpinBox(self)
        self.gpus.setRange(1, MAX_GPUS)
        self.gpus.setGroupSeparatorShown(True)
        self.gpus.setSingleStep(1024)
        self.gpus.setValue(100_000)
        form.addRow("&GPUs:", self.gpus)
        racks = catalog.of_kind("gpu_rack")
        self.rack = _combo([(f"{t.name}  [{t.gpus} GPUs]", t.id) for t in racks], self)
        form.addRow("GPU &rack:", self.rack)
        self.racks_per_array = QSpinBox(self)
        self.racks_per_array.setRange(0, 64)
        self.racks_per_array.setSpecialValueText("auto (fill a leaf)")
        self.racks_per_array.setValue(0)
        form.addRow("Racks per &array:", self.racks_per_array)
        self.whole_arrays = QCheckBox("Round up to &whole arrays", self)
        self.whole_arrays.setToolTip(
            "Off: the last array is partial and the design holds the GPUs asked for. "
            "On: every array is full, which can add up to an array's racks."
        )
        form.addRow("", self.whole_arrays)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow("", self.summary)
        form.addRow(self.error)
        self._catalog = catalog

    def show_preview(self, text: str, it_mw: float | None) -> None:
        """The line saying what the answers build (and its IT load), or why they cannot."""
        self.summary.setText(text + (f", about {it_mw:,.1f} MW of IT" if it_mw else ""))


class FabricPage(_Page):
    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Fabric")
        self.setSubTitle("The rail-optimized fat tree: switches, speed, tiers and planes.")
        self._catalog = catalog
        form = QFormLayout(self)
        nets = catalog.of_kind("network_rack")
        self.network_rack = _combo([(t.name, t.id) for t in nets], self)
        _select(self.network_rack, ClusterRequest.network_rack_type)
        form.addRow("&Network rack:", self.network_rack)
        same = [("same as the leaves", None)]
        self.spine_rack = _combo(same + [(t.name, t.id) for t in nets], self)
        form.addRow("S&pine rack:", self.spine_rack)
        self.core_rack = _combo(same + [(t.name, t.id) for t in nets], self)
        form.addRow("&Core rack:", self.core_rack)
        self.nic_speed = QComboBox(self)
        form.addRow("NIC &speed:", self.nic_speed)
        self.tiers = _combo([("auto", "auto"), ("1", 1), ("2", 2), ("3", 3)], self)
        form.addRow("&Tiers:", self.tiers)
        self.planes = _combo([("auto", "auto"), ("1", 1), ("2", 2), ("4", 4), ("8", 8)], self)
        form.addRow("&Planes:", self.planes)
        self.oversubscription = QLineEdit("1", self)
        self.oversubscription.setToolTip(
            "Down:up ratio per tier from the leaves up, e.g. 1 (non-blocking) or 3,1"
        )
        form.addRow("&Oversubscription:", self.oversubscription)
        speeds = QHBoxLayout()
        self.link_speeds: list[QComboBox] = []
        for link in LINK_TIERS:
            combo = QComboBox(self)
            combo.setToolTip(
                f"Speed of one {link} link; auto: the NIC speed over the planes "
                "(half that for a dual-homed GPU link)"
            )
            speeds.addWidget(QLabel(link, self))
            speeds.addWidget(combo)
            self.link_speeds.append(combo)
        speeds.addStretch(1)
        form.addRow("&Link speeds:", speeds)
        self.dual_homed = QCheckBox("&Dual-homed: each NIC port on two leaves of its plane", self)
        form.addRow("", self.dual_homed)
        self.pod_gpus = QSpinBox(self)
        self.pod_gpus.setRange(0, MAX_GPUS)
        self.pod_gpus.setGroupSeparatorShown(True)
        self.pod_gpus.setSingleStep(1024)
        self.pod_gpus.setSpecialValueText("none (pods as wide as a spine)")
        self.pod_gpus.setToolTip(
            "A fixed pod size in GPUs (3 tiers); the spine oversubscription applies above it"
        )
        form.addRow("Pod si&ze (GPUs):", self.pod_gpus)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow("", self.summary)
        form.addRow(self.error)
        for combo in (self.network_rack, self.spine_rack, self.core_rack):
            combo.currentIndexChanged.connect(self._fill_speeds)
        self.oversubscription.textChanged.connect(self._validate)
        self._fill_speeds()

    def _speeds(self, rack_id: object) -> set[float]:
        """Port speeds of the switch in network rack ``rack_id`` (none for an unknown one)."""
        net = self._catalog.get(rack_id) if isinstance(rack_id, str) else None
        return {group.speed_gbps for group in self._catalog[net.switch].ports} if net else set()

    def _fill_speeds(self) -> None:
        """The speeds each choice offers: the NIC the leaf's; a link tier those of the
        switches at its two ends (a speed one end lacks is refused by the preview)."""
        leaf = self.network_rack.currentData()
        spine = self.spine_rack.currentData() or leaf
        core = self.core_rack.currentData() or leaf
        _refill(self.nic_speed, [("the rack's NIC speed", 0.0)], self._speeds(leaf))
        ends = ((leaf,), (leaf, spine), (spine, core))
        for combo, racks in zip(self.link_speeds, ends, strict=True):
            speeds = set().union(*(self._speeds(r) for r in racks))
            _refill(combo, [("auto", None)], speeds)

    def link_speeds_gbps(self) -> tuple[float | None, ...]:
        """The link tiers' speeds as a request takes them: None for auto, trailing autos
        left out."""
        speeds = [combo.currentData() for combo in self.link_speeds]
        while speeds and speeds[-1] is None:
            speeds.pop()
        return tuple(speeds)

    def set_link_speeds(self, speeds: tuple[float | None, ...]) -> None:
        for k, combo in enumerate(self.link_speeds):
            _select(combo, speeds[k] if k < len(speeds) else None)

    def show_preview(self, text: str) -> None:
        """The line saying what the fabric answers build, or why they cannot."""
        self.summary.setText(text)

    def ratios(self) -> tuple[float, ...]:
        return parse_ratios(self.oversubscription.text())

    def _validate(self) -> None:
        try:
            self.ratios()
        except GeneratorError as err:
            self.error.setText(str(err))
            self.error.show()
        else:
            self.error.hide()
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        try:
            self.ratios()
        except GeneratorError:
            return False
        return True


class HallPage(_Page):
    def __init__(self, current_floor: Floor | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Hall")
        self.setSubTitle("Where the cluster goes, and how wide its aisles are.")
        self.current_floor = current_floor
        layout = QVBoxLayout(self)
        self.auto = QRadioButton("&Automatic: a hall just large enough", self)
        self.sized = QRadioButton("A rectangular hall of &this size:", self)
        self.current = QRadioButton("The &current floor (outline and obstacles)", self)
        self.choice = QButtonGroup(self)
        for button in (self.auto, self.sized, self.current):
            self.choice.addButton(button)
        self.auto.setChecked(True)
        self.current.setEnabled(current_floor is not None)
        if current_floor is not None:
            x0, y0, x1, y1 = current_floor.bounds
            self.current.setText(self.current.text() + f" — {x1 - x0:.1f} × {y1 - y0:.1f} m")
        layout.addWidget(self.auto)
        layout.addWidget(self.sized)
        size_row = QHBoxLayout()
        size_row.addSpacing(24)
        self.width_m = _metres(120.0, self, 1.0, 5000.0)
        self.depth_m = _metres(75.0, self, 1.0, 5000.0)
        size_row.addWidget(QLabel("width", self))
        size_row.addWidget(self.width_m)
        size_row.addWidget(QLabel("× depth", self))
        size_row.addWidget(self.depth_m)
        size_row.addStretch(1)
        layout.addLayout(size_row)
        layout.addWidget(self.current)
        aisles = QFormLayout()
        defaults = ClusterRequest(gpus=1)
        self.cold_aisle = _metres(defaults.cold_aisle_m, self)
        self.hot_aisle = _metres(defaults.hot_aisle_m, self)
        self.cross_aisle = _metres(defaults.cross_aisle_m, self)
        aisles.addRow("C&old aisle:", self.cold_aisle)
        aisles.addRow("&Hot aisle:", self.hot_aisle)
        aisles.addRow("Cross &aisle:", self.cross_aisle)
        layout.addSpacing(8)
        layout.addLayout(aisles)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.sized.toggled.connect(self._enable_size)
        self._enable_size(False)

    def _enable_size(self, on: bool) -> None:
        self.width_m.setEnabled(on)
        self.depth_m.setEnabled(on)


TOPOLOGY_LABELS = {
    "2n": "2N: A and B independent from source to rack",
    "distributed_redundant": "Distributed redundant: A/B from two of N blocks",
    "block_redundant": "Block redundant: N blocks and a catcher",
    "n+1": "N+1 sources, one path",
}
AUTO = "auto"


def _auto_spin(parent: QWidget, high: int) -> QSpinBox:
    """A count where the lowest value (-1) means "let the generator size it"."""
    spin = QSpinBox(parent)
    spin.setRange(-1, high)
    spin.setSpecialValueText(AUTO)
    spin.setValue(-1)
    return spin


class PlantPage(_Page):
    """Power topology and sources, power and cooling types; the last page, where
    generation errors are shown."""

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Power and cooling")
        self.setSubTitle(
            "The power topology and its sources (counts per 2N side, block or N+1 group), "
            "and the plant's unit types (N+1 heat rejection)."
        )
        form = QFormLayout(self)
        self.preset = _combo([("none", ""), *((name, name) for name in POWER_PRESETS)], self)
        self.topology = _combo([(TOPOLOGY_LABELS[t], t) for t in TOPOLOGIES], self)
        self.blocks = _auto_spin(self, 16)
        self.utility_mw = QDoubleSpinBox(self)
        self.utility_mw.setRange(-1.0, 100_000.0)
        self.utility_mw.setDecimals(1)
        self.utility_mw.setSuffix(" MW")
        self.utility_mw.setSpecialValueText(AUTO)
        self.utility_mw.setValue(-1.0)
        self.turbines = _auto_spin(self, 1000)
        self.batteries = _auto_spin(self, 1000)
        form.addRow("Power &preset:", self.preset)
        form.addRow("&Topology:", self.topology)
        form.addRow("&Blocks:", self.blocks)
        form.addRow("&Utility service:", self.utility_mw)
        form.addRow("T&urbines:", self.turbines)
        form.addRow("Batter&ies:", self.batteries)
        self.preset.currentIndexChanged.connect(self._apply_preset)
        defaults = vars(FacilityChoice())
        self.combos: dict[str, QComboBox] = {}
        for name, (kind, roles) in FACILITY_ROLES.items():
            types = [t for t in catalog.of_kind(kind) if getattr(t, "role", None) in roles]
            combo = _combo([(t.name, t.id) for t in types], self)
            _select(combo, defaults[name])
            form.addRow(f"{FACILITY_LABELS[name]}:", combo)
            self.combos[name] = combo
        form.addRow(self.error)

    def choice(self) -> FacilityChoice:
        return FacilityChoice(**{k: c.currentData() for k, c in self.combos.items()})

    def power(self) -> PowerChoice:
        """The power topology and sources as chosen ("auto" fields left to the generator)."""

        def count(spin: QSpinBox) -> int | None:
            return None if spin.value() < 0 else spin.value()

        mw = self.utility_mw.value()
        return PowerChoice(
            topology=self.topology.currentData(),
            blocks=count(self.blocks) or None,
            utility_kw=None if mw < 0 else mw * 1000.0,
            turbines=count(self.turbines),
            batteries=count(self.batteries),
        )

    def set_power(self, power: PowerChoice) -> None:
        _select(self.topology, power.topology)
        self.blocks.setValue(power.blocks or -1)
        self.utility_mw.setValue(-1.0 if power.utility_kw is None else power.utility_kw / 1000)
        self.turbines.setValue(-1 if power.turbines is None else power.turbines)
        self.batteries.setValue(-1 if power.batteries is None else power.batteries)

    def _apply_preset(self) -> None:
        name = self.preset.currentData()
        if name:
            self.set_power(POWER_PRESETS[name])


class _GenerateJob(QRunnable):
    def __init__(self, request: ClusterRequest, deliver: Callable[[object, str], None]) -> None:
        super().__init__()
        self._request = request
        self._deliver = deliver

    def run(self) -> None:
        try:
            project = generate(self._request, tray_sizer=size_trays)
        except CoherenceError as err:
            self._deliver(None, str(err))
        except Exception as err:
            self._deliver(None, f"internal error: {type(err).__name__}: {err}")
        else:
            self._deliver(project, "")


class NewClusterWizard(QWizard):
    """Asks for a cluster and generates it; :attr:`project` holds the result."""

    _generated = Signal(object, str)

    def __init__(
        self,
        catalog: Catalog | None = None,
        current_floor: Floor | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Cluster — Coherence")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.HaveNextButtonOnLastPage, True)
        self.catalog = catalog if catalog is not None else default_catalog()
        self.cluster_page = ClusterPage(self.catalog)
        self.fabric_page = FabricPage(self.catalog)
        self.hall_page = HallPage(current_floor)
        self.plant_page = PlantPage(self.catalog)
        for page in (self.cluster_page, self.fabric_page, self.hall_page, self.plant_page):
            # Every page can finish: the later pages' defaults suit most clusters.
            page.setFinalPage(True)
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Generate")
        self.project: Project | None = None
        self.error: str | None = None
        self._finishing = False
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._outcome: tuple[object, str] | None = None
        self._generated.connect(self._on_generated, Qt.ConnectionType.QueuedConnection)
        cluster, fabric = self.cluster_page, self.fabric_page
        for signal in (
            cluster.gpus.valueChanged, cluster.rack.currentIndexChanged,
            cluster.racks_per_array.valueChanged, cluster.whole_arrays.toggled,
            fabric.network_rack.currentIndexChanged, fabric.nic_speed.currentIndexChanged,
            fabric.tiers.currentIndexChanged, fabric.planes.currentIndexChanged,
            fabric.oversubscription.textChanged, fabric.spine_rack.currentIndexChanged,
            fabric.core_rack.currentIndexChanged, fabric.dual_homed.toggled,
            fabric.pod_gpus.valueChanged,
            *(combo.currentIndexChanged for combo in fabric.link_speeds),
        ):  # fmt: skip
            signal.connect(self.refresh_preview)
        self.refresh_preview()
        self.resize(640, 520)

    def refresh_preview(self) -> None:
        """Show what the answers build, sized as generating sizes them (no layout: the
        sizing takes milliseconds even at a million GPUs, so it runs on every keystroke)."""
        try:
            request = self.request()
            sized: SizePreview = preview(request, self.catalog)
        except CoherenceError as err:
            self.cluster_page.show_preview(f"Cannot size this cluster: {err}", None)
            self.fabric_page.show_preview(f"Cannot size this fabric: {err}")
            return
        rack = self.catalog[request.rack_type]
        self.cluster_page.show_preview(sized.describe(), sized.racks * rack.it_kw / 1000)
        self.fabric_page.show_preview(f"{sized.describe()}\n{sized.describe_fabric()}")

    def validateCurrentPage(self) -> bool:
        # QWizard.done(Accepted) validates the current page before closing: that is
        # where Finish (on any page) generates, and a failure keeps the wizard open.
        if not super().validateCurrentPage():
            return False
        return self.generate_now() if self._finishing else True

    def done(self, result: int) -> None:
        self._finishing = result == QWizard.DialogCode.Accepted
        try:
            super().done(result)
        finally:
            self._finishing = False

    # -- the request ---------------------------------------------------------------------
    def request(self) -> ClusterRequest:
        """The answers as a request; GeneratorError for an answer that cannot be one."""
        cluster, fabric, hall = self.cluster_page, self.fabric_page, self.hall_page
        per_array = cluster.racks_per_array.value()
        hall_m = floor = None
        if hall.sized.isChecked():
            hall_m = (hall.width_m.value(), hall.depth_m.value())
        elif hall.current.isChecked():
            floor = hall.current_floor
        return ClusterRequest(
            gpus=cluster.gpus.value(),
            rack_type=cluster.rack.currentData(),
            racks_per_array=per_array or None,
            network_rack_type=fabric.network_rack.currentData(),
            nic_speed_gbps=fabric.nic_speed.currentData() or None,
            tiers=fabric.tiers.currentData(),
            planes=fabric.planes.currentData(),
            oversubscription=fabric.ratios(),
            hall_m=hall_m,
            floor=floor,
            cold_aisle_m=hall.cold_aisle.value(),
            hot_aisle_m=hall.hot_aisle.value(),
            cross_aisle_m=hall.cross_aisle.value(),
            facility=self.plant_page.choice(),
            power=self.plant_page.power(),
            whole_arrays=cluster.whole_arrays.isChecked(),
            link_speeds_gbps=fabric.link_speeds_gbps(),
            dual_homed=fabric.dual_homed.isChecked(),
            pod_gpus=fabric.pod_gpus.value() or None,
            spine_rack_type=fabric.spine_rack.currentData(),
            core_rack_type=fabric.core_rack.currentData(),
        )

    def set_request(self, request: ClusterRequest) -> None:
        """Fill the pages from ``request`` (for tests and for repeating a request)."""
        cluster, fabric, hall = self.cluster_page, self.fabric_page, self.hall_page
        cluster.gpus.setValue(request.gpus)
        _select(cluster.rack, request.rack_type)
        cluster.racks_per_array.setValue(request.racks_per_array or 0)
        cluster.whole_arrays.setChecked(request.whole_arrays)
        _select(fabric.network_rack, request.network_rack_type)
        _select(fabric.nic_speed, request.nic_speed_gbps or 0.0)
        _select(fabric.tiers, request.tiers)
        _select(fabric.planes, request.planes)
        fabric.oversubscription.setText(",".join(f"{v:g}" for v in request.oversubscription))
        _select(fabric.spine_rack, request.spine_rack_type)
        _select(fabric.core_rack, request.core_rack_type)
        fabric.set_link_speeds(request.link_speeds_gbps)
        fabric.dual_homed.setChecked(request.dual_homed)
        fabric.pod_gpus.setValue(request.pod_gpus or 0)
        if request.floor is not None and hall.current.isEnabled():
            hall.current.setChecked(True)
        elif request.hall_m is not None:
            hall.sized.setChecked(True)
            hall.width_m.setValue(request.hall_m[0])
            hall.depth_m.setValue(request.hall_m[1])
        else:
            hall.auto.setChecked(True)
        hall.cold_aisle.setValue(request.cold_aisle_m)
        hall.hot_aisle.setValue(request.hot_aisle_m)
        hall.cross_aisle.setValue(request.cross_aisle_m)
        for name, value in dataclasses.asdict(request.facility).items():
            _select(self.plant_page.combos[name], value)
        self.plant_page.set_power(request.power)

    # -- generating ----------------------------------------------------------------------
    def generate_now(self) -> bool:
        """Generate from the answers on a worker thread; True with :attr:`project` set.

        While it runs a busy progress dialog shows (after :data:`PROGRESS_AFTER_MS`)
        and the event loop keeps the window painting. On failure the message is
        shown on the last page and False keeps the wizard open.
        """
        self.project, self.error = None, None
        try:
            request = self.request()
        except CoherenceError as err:
            return self._fail(str(err))
        progress = QProgressDialog("Laying out the cluster…", "", 0, 0, self)
        progress.setWindowTitle("New Cluster")
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.reset()  # created hidden; shown only if generation is slow
        show_later = QTimer(self)
        show_later.setSingleShot(True)
        show_later.timeout.connect(progress.show)
        loop = QEventLoop(self)
        self._outcome = None
        self._generated.connect(loop.quit)
        show_later.start(PROGRESS_AFTER_MS)
        self._pool.start(_GenerateJob(request, self._generated.emit))
        if self._outcome is None:
            loop.exec()
        self._generated.disconnect(loop.quit)
        show_later.stop()
        progress.close()
        progress.deleteLater()
        assert self._outcome is not None
        project, message = self._outcome
        if message:
            return self._fail(message)
        self.project = project  # type: ignore[assignment]
        self.plant_page.error.hide()
        return True

    def _on_generated(self, project: object, message: str) -> None:
        self._outcome = (project, message)

    def _fail(self, message: str) -> bool:
        self.error = message
        page = self.currentPage()
        label = page.error if isinstance(page, _Page) else self.plant_page.error
        label.setText(f"Cannot generate: {message}")
        label.show()
        return False
