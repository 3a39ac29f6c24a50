//! A key's letter for the whole session: the first key drawn is A, the next B, and each keeps
//! its letter (and so its colour) from frame to frame, whatever partition it lands in. After
//! 52 keys (A–Z, a–z) a new key takes the letter of the key drawn longest ago, never one in
//! the frame being built; with 52 keys in one frame, the rest share `*`.

use std::collections::HashMap;

use crate::outcome::picture::KEY_TAGS;

#[derive(Default)]
pub(super) struct KeyTags {
    /// The key each tag stands for now.
    holders: Vec<String>,
    by_key: HashMap<String, usize>,
    /// The frame in which each tag was last drawn.
    drawn: Vec<u64>,
    frame: u64,
}

impl KeyTags {
    /// A new frame begins: tags drawn from here on belong to it.
    pub fn next_frame(&mut self) {
        self.frame += 1;
    }

    /// The tag of `key`, given one if it has none.
    pub fn tag(&mut self, key: &str) -> usize {
        let tag = match self.by_key.get(key) {
            Some(&tag) => tag,
            None if self.holders.len() < KEY_TAGS => {
                self.holders.push(key.to_string());
                self.drawn.push(0);
                self.by_key.insert(key.to_string(), self.holders.len() - 1);
                self.holders.len() - 1
            }
            None => {
                // The letter drawn longest ago, if it is not in this frame.
                let (oldest, &when) = self.drawn.iter().enumerate().min_by_key(|(_, frame)| **frame).unwrap_or((0, &self.frame));
                if when >= self.frame {
                    return KEY_TAGS;
                }
                self.by_key.remove(&self.holders[oldest]);
                self.holders[oldest] = key.to_string();
                self.by_key.insert(key.to_string(), oldest);
                oldest
            }
        };
        self.drawn[tag] = self.frame;
        tag
    }

    /// The key each tag stands for, by tag.
    pub fn holders(&self) -> Vec<String> {
        self.holders.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::KeyTags;
    use crate::outcome::picture::KEY_TAGS;

    #[test]
    fn a_key_keeps_its_letter_from_frame_to_frame() {
        let mut tags = KeyTags::default();
        tags.next_frame();
        assert_eq!((tags.tag("till-1"), tags.tag("till-2")), (0, 1));
        tags.next_frame();
        // till-3 drawn first in a later frame does not take till-1's letter.
        assert_eq!((tags.tag("till-3"), tags.tag("till-1"), tags.tag("till-2")), (2, 0, 1));
    }

    #[test]
    fn past_52_keys_a_letter_goes_to_a_new_key_only_from_one_not_on_screen() {
        let mut tags = KeyTags::default();
        tags.next_frame();
        for n in 0..KEY_TAGS {
            assert_eq!(tags.tag(&format!("k{n}")), n);
        }
        // Every letter is on screen in this frame: the 53rd key shares `*`.
        assert_eq!(tags.tag("k52"), KEY_TAGS);
        tags.next_frame();
        for n in 1..KEY_TAGS {
            tags.tag(&format!("k{n}"));
        }
        // k0 was not drawn in this frame, so its letter is free for a new key.
        assert_eq!(tags.tag("k52"), 0);
        assert_eq!(tags.holders()[0], "k52");
    }
}
