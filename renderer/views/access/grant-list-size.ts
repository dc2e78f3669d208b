/**
 * Up to this many active grants every card is in the page, so find-in-page and a screen reader's list
 * navigation see them all; past it only the cards in and near the view are, so a window with hundreds of
 * grants opens and ticks as fast as one with a handful.
 */
export const EVERY_CARD_UP_TO = 50;
