"""The image model: entries of every layer, stacked once into a timeline, and the loaded Image.

``entries`` stores the columns of every entry and interns paths,
``hardlinks`` binds links in archive order, ``merge`` stacks the layers into
a timeline (when each entry stops being visible: whiteouts, opaque
directories, replacements), ``image`` is the loaded image with its merged
views, ``image_set`` the images of a multi-image archive, and ``loader``
ties archive, manifest and model together (``load_image``).
"""
