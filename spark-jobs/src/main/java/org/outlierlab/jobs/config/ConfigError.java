package org.outlierlab.jobs.config;

/** Invalid configuration: raised before any Spark work starts; the message names the key and what it allows. */
public final class ConfigError extends RuntimeException {
  public ConfigError(String message) {
    super(message);
  }
}
