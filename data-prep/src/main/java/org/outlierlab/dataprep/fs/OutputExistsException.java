package org.outlierlab.dataprep.fs;

import java.io.IOException;

/** The output exists and the user did not ask to replace it. */
public final class OutputExistsException extends IOException {
  OutputExistsException(String message) {
    super(message);
  }
}
