"""The person feature table, by subject: orders and baskets, engagement, service, profile, models.

:func:`newretail.tags.person_features.person_features` assembles them; tag definitions read its columns.
"""
