#!/bin/sh
# /usr/bin/hearttwin: start the bundled HeartTwin installed in /opt/hearttwin.
exec /opt/hearttwin/hearttwin "$@"
