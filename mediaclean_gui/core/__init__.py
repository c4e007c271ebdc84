"""The Qt-free core of mediaclean: catalog, profiles, planners, safety guards and executors."""
