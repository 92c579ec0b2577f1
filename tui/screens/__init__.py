"""The screens of the annotation interface, one a module."""
