"""The floor canvas: the scene mirroring the model, its view, mouse modes, editor, overlays."""
