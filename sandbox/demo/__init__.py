"""The sandbox's demo data: a shop's gift cards, a B2B credit line and a shared-house ledger.

The app has no models; it only adds the ``load_demo_data`` management command.
"""
