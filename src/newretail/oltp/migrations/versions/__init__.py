"""One module per revision, applied in order by :func:`newretail.oltp.upgrade`."""
