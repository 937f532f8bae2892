package org.outlierlab.dataprep.tokenize;

import java.nio.charset.StandardCharsets;

/** Ids 0–255 are the UTF-8 bytes of the text, 256 is end-of-document: needs no file. */
public final class ByteTokenizer implements Tokenizer {
  public static final int END_OF_DOCUMENT = 256;

  @Override
  public void encode(CharSequence text, boolean documentStart, IntList out) {
    for (byte b : text.toString().getBytes(StandardCharsets.UTF_8)) {
      out.add(b & 0xff);
    }
  }

  @Override
  public int vocabSize() {
    return 257;
  }

  @Override
  public int endOfDocumentId() {
    return END_OF_DOCUMENT;
  }
}
