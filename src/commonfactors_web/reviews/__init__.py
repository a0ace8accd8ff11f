"""Support reviews: a structured look at why an episode is off track, and the adaptations
of the treatment chosen in answer."""
