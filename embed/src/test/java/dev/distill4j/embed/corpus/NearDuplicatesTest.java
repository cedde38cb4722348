package dev.distill4j.embed.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NearDuplicatesTest {
    @Test
    void aSentenceWithOneWordChangedIsANearDuplicateAnOtherSentenceIsNot() {
        NearDuplicates d = new NearDuplicates(NearDuplicates.DEFAULT_THRESHOLD);
        String a = Sentences.key("This option tells the program to print the names of all files that match the pattern given on the command line.");
        assertTrue(d.addIfNew(a));
        assertFalse(d.addIfNew(a), "the same sentence again");
        // one word of 22 changed: 19 of 23 distinct bigrams shared (Jaccard ≈ 0.83 ≥ 0.7)
        assertFalse(d.addIfNew(Sentences.key("This option tells the program to print the names of all directories that match the pattern given on the command line.")));
        assertTrue(d.addIfNew(Sentences.key("Packages are downloaded from the mirrors listed in the sources file and verified with their signatures.")));
        assertEquals(2, d.size());
    }

    @Test
    void signatureAgreementEstimatesJaccardSimilarity() {
        // two sets of 40 bigrams sharing 20: Jaccard 20/60 = 1/3; the 32-hash estimate is within a few hashes
        StringBuilder x = new StringBuilder(), y = new StringBuilder();
        for (int i = 0; i < 21; i++) x.append("w").append(i).append(' ');
        for (int i = 0; i < 20; i++) x.append("a").append(i).append(' ');
        for (int i = 0; i < 21; i++) y.append("w").append(i).append(' ');
        for (int i = 0; i < 20; i++) y.append("b").append(i).append(' ');
        double est = NearDuplicates.agreement(NearDuplicates.signature(x.toString().strip()), NearDuplicates.signature(y.toString().strip()));
        assertTrue(Math.abs(est - 1.0 / 3) < 0.2, "estimate " + est);
    }
}
