"""Everything the explorer shows for one image, built once after loading.

Loading (archive, layers, timeline) happens in ``dive_py.core``; this adds
what only the explorer needs: the efficiency figures, content hashes for
paths that appear in more than one layer (so "modified" means modified),
the vectorised comparer and the pane models.  The insights (true
reclaimable bytes, findings, junk) are left to :class:`InsightsJob`, which
the screen starts once it is up.
"""

from __future__ import annotations

from dataclasses import dataclass

from dive_py.core.analysis.compare import Comparer
from dive_py.core.analysis.efficiency import Efficiency, analyse
from dive_py.core.analysis.hashing import ensure_hashes, hash_candidates
from dive_py.core.model.image import Image
from dive_py.core.progress import NullProgress, Progress
from dive_py.viewmodel.file_tree import FileTreeModel
from dive_py.viewmodel.insights import InsightSettings, InsightsJob
from dive_py.viewmodel.layers import LayerListModel
from dive_py.viewmodel.tree_index import TreeIndex


@dataclass(slots=True)
class Session:
    image: Image
    efficiency: Efficiency
    tree: FileTreeModel
    layers: LayerListModel
    insights: InsightsJob

    @classmethod
    def build(
        cls,
        image: Image,
        *,
        hidden: set[int] | None = None,
        collapse_dir: bool = False,
        aggregated: bool = False,
        progress: Progress | None = None,
        insight_settings: InsightSettings | None = None,
    ) -> Session:
        prog = progress or NullProgress()
        prog.phase("Analysing", 0)
        eff = analyse(image)
        ensure_hashes(image, hash_candidates(image), prog)
        prog.phase("Indexing paths", 0)
        comparer = Comparer(image)
        index = TreeIndex(image.paths)
        tree = FileTreeModel(image, comparer, index, hidden=hidden or (), collapse_all=collapse_dir)
        layers = LayerListModel(image, aggregated=aggregated)
        if aggregated:
            tree.set_layer(0, True)
        return cls(image, eff, tree, layers, InsightsJob(image, insight_settings))

    def close(self) -> None:
        """Stop the insights' thread, then close the image's files."""
        self.insights.stop()
        self.image.close()

    def select_layer(self, layer: int, aggregated: bool | None = None) -> None:
        """Point both panes at ``layer`` (and optionally switch the compare mode)."""
        if aggregated is not None:
            self.layers.aggregated = aggregated
        self.layers.select(layer)
        self.tree.set_layer(self.layers.selected, self.layers.aggregated)
